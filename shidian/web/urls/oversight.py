from django.urls import path

from shidian.web.views import oversight as views

app_name = "oversight"
urlpatterns = [
    path("", views.index, name="index"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.messages_read_all, name="inbox_read_all"),
    path("inbox/<int:message_id>/", views.message_open, name="message"),
    path("plans/<int:plan_id>/", views.plan_lights, name="plan_lights"),
    path("plans/<int:plan_id>/rule/", views.rule_edit, name="rule"),
    path("plans/<int:plan_id>/robots/", views.robot_add, name="robot_add"),
    path("robots/<int:webhook_id>/toggle/", views.robot_toggle, name="robot_toggle"),
    path("notices/", views.notices, name="notices"),
    path("notices/new/", views.notice_new, name="notice_new"),
    path("notices/<int:notice_id>/", views.notice_detail, name="notice"),
    path("notices/<int:notice_id>/reply/", views.notice_reply, name="notice_reply"),
    path("notices/<int:notice_id>/accept/", views.notice_accept, name="notice_accept"),
    path("notices/<int:notice_id>/return/", views.notice_return, name="notice_return"),
    path("notices/<int:notice_id>/escalate/", views.notice_escalate, name="notice_escalate"),
    path("notices/<int:notice_id>/notice.docx", views.notice_docx, name="notice_docx"),
    path("notices/<int:notice_id>/replies/<int:reply_id>/reply.docx", views.reply_docx,
         name="reply_docx"),
]
