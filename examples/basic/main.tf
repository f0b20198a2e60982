# Basic use of the published module. This folder is copied into the built module
# (dist/terraform-aws-pmm/examples/basic) by `npm run build:module`, so `source = "../.."`
# points at the module root. From a registry or Git, use that source instead.

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

  environment        = var.environment
  public_subnet_ids  = var.public_subnet_ids
  private_subnet_ids = var.private_subnet_ids
  zone_id            = var.zone_id
  alarm_emails       = var.alarm_emails

  # Optional: enrol the instances of Percona Server ASGs (creates the reconciler Lambda).
  monitored_asgs = var.monitored_asgs

  tags = {
    team = "dba"
  }
}
