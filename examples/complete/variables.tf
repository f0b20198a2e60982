variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name."
  type        = string
  default     = "dev"
}

variable "public_subnet_ids" {
  description = "Public subnets for the load balancer (two or more AZs)."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Private subnets; PMM runs in the first."
  type        = list(string)
}

variable "zone_id" {
  description = "Route53 hosted zone ID for pmm.<zone>."
  type        = string
}

variable "alarm_emails" {
  description = "Who gets alarm emails."
  type        = list(string)
}


variable "ssh_key_name" {
  description = "EC2 key pair for SSH (null: SSM Session Manager only)."
  type        = string
  default     = null
}

variable "admin_cidr_block" {
  description = "Where SSH may come from (a /8 or narrower)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the volumes and the backup vault."
  type        = string
}

variable "additional_certificate_arns" {
  description = "Extra ACM certificates on the HTTPS listener (SNI)."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arns" {
  description = "Extra SNS topics every alarm notifies (PagerDuty, Slack, ...)."
  type        = list(string)
  default     = []
}

variable "rds_security_group_ids" {
  description = "Security groups of RDS instances PMM monitors."
  type        = list(string)
  default     = []
}

variable "secret_readers" {
  description = "IAM role ARNs allowed to read the admin password secret."
  type        = list(string)
  default     = []
}

variable "monitored_asgs" {
  description = "ASGs whose instances get pmm-client (see the module's monitored_asgs)."
  type = list(object({
    asg_name            = string
    service_type        = optional(string, "mysql")
    port                = optional(number, 3306)
    username            = string
    security_group_id   = string
    password_secret_arn = optional(string)
  }))
  default = []
}
