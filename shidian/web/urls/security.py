"""Pages of the security app under /security/."""
from django.urls import path

from shidian.web.views import security

app_name = "security"
urlpatterns = [
    path("", security.controls, name="controls"),
    path("policy/", security.policy, name="policy"),
    path("accounts/", security.accounts, name="accounts"),
    path("accounts/<int:user_id>/unlock/", security.account_unlock, name="account-unlock"),
    path("accounts/<int:user_id>/password/", security.account_force_password,
         name="account-password"),
    path("accounts/<int:user_id>/role/", security.account_role, name="account-role"),
    path("accounts/<int:user_id>/totp/", security.account_totp_reset, name="account-totp"),
    path("audit/", security.audit, name="audit"),
    path("audit/verify/", security.audit_verify, name="audit-verify"),
    path("logins/", security.logins, name="logins"),
    path("password/", security.password, name="password"),
    path("otp/", security.otp, name="otp"),
    path("otp/setup/", security.otp_setup, name="otp-setup"),
    path("otp/qr.svg", security.otp_qr, name="otp-qr"),
]
