/**
 * What makes an EC2 instance type fit for PMM Server, checked at plan time against the type's
 * real properties (`aws_ec2_instance_type`), not a list of families, so every current and
 * future x86_64 type that is large enough is accepted:
 * - x86_64: Percona publishes no native arm64 PMM Server image ("PMM Server is not currently
 *   available as a native ARM64 build"): on Graviton the host boots and PMM never starts.
 * - at least MIN_MEMORY_MIB of memory and MIN_VCPUS vCPUs: PMM 3 runs PostgreSQL,
 *   ClickHouse, VictoriaMetrics, Grafana and its own services in one container; Percona's
 *   setup guide asks for at least 2 GB of memory per monitored node, and the host needs its
 *   share (Ubuntu, Docker, the CloudWatch agent). 4 GiB and 2 vCPUs is the smallest size the
 *   module accepted before (c5.large), and enough for a first few nodes.
 * - EBS optimization available: the instance runs EBS-optimized (its data lives on EBS).
 */

/** The smallest memory accepted, in MiB (the data source's `memory_size` unit). */
export const MIN_MEMORY_MIB = 4096;
/** The fewest vCPUs accepted. */
export const MIN_VCPUS = 2;

/** Postconditions for `data.aws_ec2_instance_type` (`self` is the data source). */
export function instanceTypeChecks(instanceType: string) {
  const named = `instance_type "${instanceType}"`;
  return [
    {
      condition: '${contains(self.supported_architectures, "x86_64")}',
      errorMessage:
        `${named} is not an x86_64 type (its architectures: \${join(", ", self.supported_architectures)}). ` +
        'Percona publishes no native arm64 PMM Server image ("PMM Server is not currently available as a native ARM64 build"), ' +
        'so PMM would never start on it. Choose an x86_64 type, for example m7i.large or m7a.large.',
    },
    {
      condition: `\${self.memory_size >= ${MIN_MEMORY_MIB} && self.default_vcpus >= ${MIN_VCPUS}}`,
      errorMessage:
        `${named} has \${self.memory_size} MiB of memory and \${self.default_vcpus} vCPUs; ` +
        `PMM Server needs at least ${MIN_MEMORY_MIB} MiB (4 GiB) and ${MIN_VCPUS} vCPUs (for example m7i.large).`,
    },
    {
      condition: '${self.ebs_optimized_support != "unsupported"}',
      errorMessage: `${named} does not support EBS optimization, which the PMM host uses for its data volume; choose a current-generation type.`,
    },
  ];
}
