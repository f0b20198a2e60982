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
