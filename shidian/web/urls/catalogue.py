from django.urls import path

from shidian.web.views import catalogue as views

app_name = "catalogue"
urlpatterns = [
    path("", views.pack_list, name="list"),
    path("packs/<str:pack>/new/", views.programme_new, name="new"),
    path("programmes/<int:programme_id>/", views.programme_pack, name="programme"),
    path("programmes/<int:programme_id>/feeds/", views.feeds_pull, name="feeds-pull"),
    path("lists/<int:list_id>/items/", views.list_item_add, name="item-add"),
]
