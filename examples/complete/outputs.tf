output "pmm_url" {
  description = "PMM web interface."
  value       = module.pmm.pmm_url
}

output "admin_password_secret_arn" {
  description = "Secret holding the PMM admin password (user admin)."
  value       = module.pmm.admin_password_secret_arn
}

output "instance_private_ip" {
  description = "pmm-agent clients connect here on 443."
  value       = module.pmm.instance_private_ip
}

output "dashboard_and_alarms_topic" {
  description = "SNS topic every alarm notifies."
  value       = module.pmm.sns_topic_arn
}

output "reconciler_lambda_function_arn" {
  description = "The ASG reconciler (null without monitored_asgs)."
  value       = module.pmm.reconciler_lambda_function_arn
}
