def test_worker_lists_only_households_of_their_grid(world, client_for):
    r = client_for(world.worker1.user).get("/api/v1/households/")
    assert r.status_code == 200, r.content
    assert [h["id"] for h in r.json()["results"]] == [world.household1.id]
