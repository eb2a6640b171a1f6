from django.urls import path, re_path

from field import views

urlpatterns = [
    path("api/v1/field/bundle/", views.FieldBundleView.as_view(), name="field-bundle"),
    re_path(r"^m/(?P<path>.*)$", views.field_app, name="field-app"),
]
