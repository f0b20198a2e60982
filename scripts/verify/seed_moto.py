"""Seeds a moto server with what the PMM module expects to exist, prints the IDs as JSON.

Usage: python seed_moto.py ENDPOINT_URL
Creates: a VPC with public and private subnets in two Availability Zones, a Route53 hosted
zone, and an Auto Scaling Group (with its security group) for `monitored_asgs`.
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
region = "us-east-1"
kw = dict(
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id="mock",
    aws_secret_access_key="mock",
)
ec2 = boto3.client("ec2", **kw)
r53 = boto3.client("route53", **kw)
asg = boto3.client("autoscaling", **kw)

vpc_id = ec2.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
azs = [f"{region}a", f"{region}b"]
public, private = [], []
for i, az in enumerate(azs):
    public.append(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.80.{i}.0/24", AvailabilityZone=az)[
            "Subnet"
        ]["SubnetId"]
    )
    private.append(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.80.{10 + i}.0/24", AvailabilityZone=az)[
            "Subnet"
        ]["SubnetId"]
    )
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)

# Real hosted zone IDs start with "Z" (the module validates that); moto draws 22 random
# characters. Create zones until one has a real-looking ID and delete the others.
zone_id, zone_name = None, None
for n in range(400):
    name = f"pmm-verify-{n}.example.com"
    zid = r53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"].split("/")[-1]
    if zid.startswith("Z") and zone_id is None:
        zone_id, zone_name = zid, name
        break
    r53.delete_hosted_zone(Id=zid)
if zone_id is None:
    sys.exit("seed: moto gave no hosted zone ID starting with Z in 400 tries")

asg_sg = ec2.create_security_group(
    GroupName="percona-server-verify", Description="monitored ASG", VpcId=vpc_id
)["GroupId"]
amis = ec2.describe_images(Owners=["099720109477"])["Images"]
lt_name = "percona-server-verify"
ec2.create_launch_template(
    LaunchTemplateName=lt_name,
    LaunchTemplateData={
        "ImageId": amis[0]["ImageId"] if amis else "ami-12c6146b",
        "InstanceType": "t3.micro",
        "SecurityGroupIds": [asg_sg],
    },
)
asg_name = "percona-server-verify"
asg.create_auto_scaling_group(
    AutoScalingGroupName=asg_name,
    LaunchTemplate={"LaunchTemplateName": lt_name},
    MinSize=0,
    MaxSize=1,
    DesiredCapacity=0,
    VPCZoneIdentifier=",".join(private),
)

print(
    json.dumps(
        {
            "vpc_id": vpc_id,
            "public_subnet_ids": public,
            "private_subnet_ids": private,
            "zone_id": zone_id,
            "zone_name": zone_name,
            "asg_name": asg_name,
            "asg_security_group_id": asg_sg,
        }
    )
)
