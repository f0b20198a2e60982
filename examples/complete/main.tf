# Every optional feature of the module switched on. This folder is copied into the built
# module (dist/terraform-aws-pmm/examples/complete) by `npm run build:module`, so
# `source = "../.."` points at the module root.

terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7"
    }
  }
}

provider "aws" {
  region = var.region
}

module "pmm" {
  source = "../.."

  # Route53 records and zone lookups use the aws.dns provider (zones may be in another
  # account: pass a provider for that account instead). Terraform requires both entries.
  providers = {
    aws     = aws
    aws.dns = aws
  }

  # Required
  environment        = var.environment
  public_subnet_ids  = var.public_subnet_ids
  private_subnet_ids = var.private_subnet_ids
  zone_id            = var.zone_id
  alarm_emails       = var.alarm_emails

  # Instance
  service_name               = "pmm"
  dns_names                  = ["pmm", "monitoring"]
  pmm_version                = "3"
  instance_type              = "m7g.xlarge" # Graviton: arm64 AMI
  root_volume_size           = 30
  ssh_key_name               = var.ssh_key_name
  admin_cidr_block           = var.admin_cidr_block
  enable_auto_recovery       = true
  enable_detailed_monitoring = true

  # Data volume
  ebs_volume_size         = 200
  ebs_volume_type         = "gp3"
  ebs_iops                = 6000
  ebs_throughput          = 250
  kms_key_id              = var.kms_key_arn
  create_initial_snapshot = true

  # Front door
  allowed_cidr_blocks         = ["10.0.0.0/8"]
  ssl_policy                  = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
  certificate_issuers         = ["amazon.com"]
  additional_certificate_arns = var.additional_certificate_arns
  enable_deletion_protection  = true
  enable_alb_access_logs      = true
  alb_logs_retention_days     = 400

  # Backup
  backup_schedule              = "cron(0 5 ? * * *)"
  backup_retention_days        = 35
  enable_weekly_backup         = true
  weekly_backup_schedule       = "cron(0 6 ? * SUN *)"
  weekly_backup_retention_days = 180
  backup_root_volume           = true
  backup_kms_key_id            = var.kms_key_arn
  enable_backup_alarms         = true

  # Monitoring
  alarm_topic_arns   = var.alarm_topic_arns
  create_dashboard   = true
  log_retention_days = 400

  # Access
  rds_security_group_ids = var.rds_security_group_ids
  secret_readers         = var.secret_readers

  # Enrol the instances of Percona Server ASGs (creates the reconciler Lambda)
  monitored_asgs = var.monitored_asgs

  tags = {
    team        = "dba"
    cost-center = "monitoring"
  }
}
