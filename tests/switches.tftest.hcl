# What each module variable switches, decided at plan time (count / for_each / dynamic), with
# the AWS provider mocked. build:module prepends the shared mock_provider "aws" block
# (scripts/module-tests.ts) when it copies this file into the module's tests/ folder.

variables {
  public_subnet_ids  = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  private_subnet_ids = ["subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60004"]
  zone_id            = "Z0123456789ABCDEFGHIJ"
  environment        = "test"
  alarm_emails       = ["dba-oncall@example.com", "sre@example.com"]
}

run "defaults_switch_optional_parts_off" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.pmm_reconciler_function) == 0 && length(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret) == 0
    error_message = "Without monitored_asgs there must be no reconciler Lambda or enrolment secret."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.pmm_network_instance_ssh_from_admin) == 0
    error_message = "Without admin_cidr_block no SSH port may be opened."
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.pmm_monitoring_dashboard) == 0
    error_message = "create_dashboard defaults to false."
  }
  assert {
    condition     = length(aws_ebs_snapshot.pmm_data_volume_initial_snapshot) == 0
    error_message = "create_initial_snapshot defaults to false."
  }
  assert {
    condition     = aws_secretsmanager_secret_policy.pmm_admin_secret_policy.block_public_policy == true
    error_message = "The admin secret always has its deny-everyone-else resource policy, blocking public policies."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.pmm_monitoring_data_volume_burst_balance_low) == 0
    error_message = "The burst-balance alarm exists for gp2 only."
  }
  assert {
    condition     = [for r in aws_backup_plan.pmm_backup_plan.rule : r.rule_name] == ["daily"]
    error_message = "Only the daily backup rule by default."
  }
  assert {
    condition     = length(aws_s3_bucket.pmm_front_door_access_logs_bucket) == 1 && length(aws_cloudwatch_metric_alarm.pmm_monitoring_backup_jobs_failed) == 1
    error_message = "Access logs and backup alarms are on by default."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.pmm_notifications_email) == 2
    error_message = "One email subscription per alarm_emails entry."
  }
  assert {
    condition     = length(aws_route53_record.pmm_front_door_alias_a) == 1 && length(aws_route53_record.pmm_front_door_tls_caa) == 1
    error_message = "One alias and one CAA record for the default dns_names."
  }
}

run "optional_parts_switched_on" {
  command = plan

  variables {
    admin_cidr_block        = "10.0.0.0/16"
    create_dashboard        = true
    create_initial_snapshot = true
    enable_weekly_backup    = true
    ebs_volume_type         = "gp2"
    secret_readers          = ["arn:aws:iam::123456789012:role/dba"]
    dns_names               = ["pmm", "monitoring"]
    rds_security_group_ids  = ["sg-0123456789abcdef1"]
    monitored_asgs = [
      { asg_name = "percona-a", username = "pmm", security_group_id = "sg-0123456789abcdef0" },
      { asg_name = "percona-b", username = "pmm", security_group_id = "sg-0123456789abcdef0" },
    ]
  }

  assert {
    condition     = length(aws_lambda_function.pmm_reconciler_function) == 1 && length(aws_cloudwatch_event_rule.pmm_reconciler_schedule) == 1
    error_message = "monitored_asgs must create the reconciler and its schedule."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.pmm_network_instance_grpc_from_asg) == 1
    error_message = "One gRPC rule per distinct ASG security group (two ASGs share one)."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.pmm_network_instance_ssh_from_admin) == 1
    error_message = "admin_cidr_block must open SSH."
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.pmm_monitoring_dashboard) == 1 && length(aws_ebs_snapshot.pmm_data_volume_initial_snapshot) == 1
    error_message = "create_dashboard and create_initial_snapshot must each create their resource."
  }
  assert {
    condition     = aws_secretsmanager_secret_policy.pmm_admin_secret_policy.block_public_policy == true
    error_message = "With secret_readers the admin secret keeps its resource policy (the readers in it are checked by jest with terraform console: __tests__/admin-secret.test.ts)."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.pmm_monitoring_data_volume_burst_balance_low) == 1
    error_message = "gp2 must get the burst-balance alarm."
  }
  assert {
    condition     = toset([for r in aws_backup_plan.pmm_backup_plan.rule : r.rule_name]) == toset(["daily", "weekly"])
    error_message = "enable_weekly_backup must add the weekly rule."
  }
  assert {
    condition     = length(aws_route53_record.pmm_front_door_alias_a) == 2 && length(aws_route53_record.pmm_front_door_tls_caa) == 2
    error_message = "One alias and one CAA record per DNS name."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.pmm_network_rds_mysql_from_instance) == 1 && length(aws_vpc_security_group_ingress_rule.pmm_network_rds_postgresql_from_instance) == 1
    error_message = "Each RDS security group gets MySQL and PostgreSQL ingress."
  }
}

run "access_logs_backup_alarms_and_caa_off" {
  command = plan

  variables {
    enable_alb_access_logs = false
    enable_backup_alarms   = false
    certificate_issuers    = []
  }

  assert {
    condition     = length(aws_s3_bucket.pmm_front_door_access_logs_bucket) == 0 && length(aws_s3_bucket_policy.pmm_front_door_access_logs_policy) == 0
    error_message = "enable_alb_access_logs = false must create no bucket."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.pmm_monitoring_backup_jobs_failed) == 0 && length(aws_cloudwatch_event_rule.pmm_backup_failed_jobs) == 0
    error_message = "enable_backup_alarms = false must create no backup alarms."
  }
  assert {
    condition     = length(aws_route53_record.pmm_front_door_tls_caa) == 0
    error_message = "An empty certificate_issuers creates no CAA records."
  }
}

run "data_volume_is_protected_and_encrypted" {
  command = plan

  assert {
    condition     = aws_ebs_volume.pmm_data_volume_volume["initial"].encrypted == true && aws_ebs_volume.pmm_data_volume_volume["initial"].size == 100
    error_message = "The data volume must be encrypted, 100 GiB by default."
  }
}
