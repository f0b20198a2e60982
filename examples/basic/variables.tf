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
