# 三员分立: the security administrator and the audit administrator join the roles.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orgs', '0002_agency_unique_credit_code'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(choices=[('office', 'Plan office'), ('liaison', 'Unit liaison'), ('pilot_site', 'Pilot site'), ('case_worker', 'Case worker'), ('expert', 'Expert / inspector'), ('leader', 'Leader'), ('admin', 'Administrator'), ('security_admin', 'Security administrator'), ('audit_admin', 'Audit administrator')], default='liaison', max_length=16, verbose_name='role'),
        ),
    ]
