# Volunteer teams, activities and service hours arrive with the volunteers issue.
