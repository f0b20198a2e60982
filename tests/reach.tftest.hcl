# Reach and placement (issue 16): internal_alb, validation_zone_id, the aws.dns provider alias
# and the status-check actions, decided at plan time with the AWS providers mocked.
# build:module prepends the shared mock_provider blocks (scripts/module-tests.ts): the default
# "aws" and the aliased "aws" { alias = "dns" } every Route53 zone lookup and record uses.

variables {
  public_subnet_ids  = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  private_subnet_ids = ["subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60004"]
  zone_id            = "Z0123456789ABCDEFGHIJ"
  environment        = "test"
  alarm_emails       = ["dba-oncall@example.com"]
}

run "internet_facing_by_default" {
  command = plan

  assert {
    condition     = aws_lb.pmm_front_door_alb.internal == false && aws_lb.pmm_front_door_alb.subnets == toset(var.public_subnet_ids)
    error_message = "By default the load balancer is internet-facing, in the public subnets."
  }
  assert {
    condition     = keys(aws_vpc_security_group_ingress_rule.pmm_network_alb_https_in) == ["0.0.0.0/0"] && keys(aws_vpc_security_group_ingress_rule.pmm_network_alb_http_in) == ["0.0.0.0/0"]
    error_message = "allowed_cidr_blocks = null opens an internet-facing load balancer to 0.0.0.0/0 (today's default)."
  }
  assert {
    condition     = length(data.aws_vpc.pmm_network_vpc) == 0
    error_message = "The VPC is looked up only for an internal load balancer."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.pmm_monitoring_instance_status_check_repeated) == 1 && contains(aws_cloudwatch_metric_alarm.pmm_monitoring_instance_status_check.alarm_actions, "arn:aws:automate:us-east-1:ec2:reboot")
    error_message = "enable_auto_recovery (default true) reboots on a failed instance check and alarms on repeated failures."
  }
  assert {
    condition     = contains(aws_cloudwatch_metric_alarm.pmm_monitoring_system_status_check.alarm_actions, "arn:aws:automate:us-east-1:ec2:recover")
    error_message = "enable_auto_recovery (default true) recovers on a failed system check."
  }
  assert {
    condition     = length(aws_instance.pmm_host_instance.maintenance_options) == 0
    error_message = "With enable_auto_recovery EC2's simplified automatic recovery is left at AWS's default (no maintenance_options block)."
  }
}

run "internal_alb_in_private_subnets_open_to_the_vpc" {
  command = plan

  variables {
    internal_alb = true
  }

  assert {
    condition     = aws_lb.pmm_front_door_alb.internal == true && aws_lb.pmm_front_door_alb.subnets == toset(var.private_subnet_ids)
    error_message = "internal_alb puts an internal load balancer in the private subnets."
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.pmm_network_alb_https_in)) == toset(["10.0.0.0/16", "100.64.0.0/20"]) && toset(keys(aws_vpc_security_group_ingress_rule.pmm_network_alb_http_in)) == toset(["10.0.0.0/16", "100.64.0.0/20"])
    error_message = "An internal load balancer with allowed_cidr_blocks = null accepts every IPv4 CIDR block of the VPC, never 0.0.0.0/0."
  }
  assert {
    condition     = length(aws_route53_record.pmm_front_door_alias_a) == 1 && length(aws_route53_record.pmm_front_door_tls_validation_record) == 1
    error_message = "The alias and validation records exist for an internal load balancer too."
  }
}

run "internal_alb_with_explicit_cidrs" {
  command = plan

  variables {
    internal_alb        = true
    allowed_cidr_blocks = ["172.16.0.0/12"]
  }

  assert {
    condition     = keys(aws_vpc_security_group_ingress_rule.pmm_network_alb_https_in) == ["172.16.0.0/12"]
    error_message = "An explicit allowed_cidr_blocks wins over the VPC default."
  }
}

run "internal_alb_needs_two_private_subnets" {
  command = plan

  variables {
    internal_alb       = true
    private_subnet_ids = ["subnet-0a1b2c3d4e5f60003"]
  }

  expect_failures = [aws_lb.pmm_front_door_alb]
}

# A private zone_id without validation_zone_id is refused by the certificate's precondition on
# data.aws_route53_zone...private_zone. That attribute is Optional (not Computed) in the
# provider's schema, so neither mock_data nor override_data can set it: __tests__/reach.test.ts
# checks that precondition with `terraform console` instead.

run "validation_zone_holds_validation_and_caa_records" {
  command = plan

  variables {
    internal_alb       = true
    validation_zone_id = "Z9999999999PUBLICZONE"
  }

  override_data {
    target = data.aws_route53_zone.pmm_front_door_zone
    values = { name = "internal.example.com", private_zone = true }
  }

  assert {
    condition     = aws_route53_record.pmm_front_door_alias_a["pmm"].zone_id == "Z0123456789ABCDEFGHIJ" && aws_route53_record.pmm_front_door_alias_a["pmm"].name == "pmm.internal.example.com"
    error_message = "The alias record goes into zone_id (here a private zone)."
  }
  assert {
    condition     = aws_route53_record.pmm_front_door_tls_validation_record["pmm"].zone_id == "Z9999999999PUBLICZONE" && aws_route53_record.pmm_front_door_tls_caa["pmm"].zone_id == "Z9999999999PUBLICZONE"
    error_message = "Validation and CAA records go into validation_zone_id."
  }
}

run "validation_zone_of_another_domain_is_refused" {
  command = plan

  variables {
    validation_zone_id = "Z9999999999PUBLICZONE"
  }

  override_data {
    target = data.aws_route53_zone.pmm_front_door_validation_zone_zone
    values = { name = "other.org", private_zone = false }
  }

  expect_failures = [aws_acm_certificate.pmm_front_door_tls_certificate]
}

run "auto_recovery_off_removes_actions_and_ec2_recovery" {
  command = plan

  variables {
    enable_auto_recovery = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.pmm_monitoring_instance_status_check_repeated) == 0 && length(aws_cloudwatch_metric_alarm.pmm_monitoring_instance_status_check.alarm_actions) == 1
    error_message = "enable_auto_recovery = false: the instance check alarm only notifies the topic (no reboot action); no repeated-failure alarm."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.pmm_monitoring_system_status_check.alarm_actions) == 1
    error_message = "enable_auto_recovery = false: the system check alarm only notifies the topic (no recover action)."
  }
  assert {
    condition     = aws_instance.pmm_host_instance.maintenance_options[0].auto_recovery == "disabled"
    error_message = "enable_auto_recovery = false also disables EC2's simplified automatic recovery."
  }
}
