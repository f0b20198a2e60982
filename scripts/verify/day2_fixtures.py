"""Fixtures the day-2 matrix needs in the moto emulator; prints one JSON line.

Usage: python day2_fixtures.py ENDPOINT_URL COMMAND [ARG]
  snapshot VOLUME_ID   take an EBS snapshot of the volume (completed at once in moto)
  kms-key              create a customer-managed KMS key
  asg SUBNET_IDS       create a second Auto Scaling Group (comma-separated subnets) and its group
  volume VOLUME_ID     describe a volume: state, AZ, snapshot, attachments, tags (or null)
"""

import json
import sys

import boto3

endpoint, command = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
kw = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="mock",
    aws_secret_access_key="mock",
)
ec2 = boto3.client("ec2", **kw)

if command == "snapshot":
    snap = ec2.create_snapshot(VolumeId=arg, Description="pmm verify day-2 restore")
    print(json.dumps({"snapshot_id": snap["SnapshotId"], "volume_size": snap["VolumeSize"]}))
elif command == "kms-key":
    key = boto3.client("kms", **kw).create_key(Description="pmm verify day-2 kms_key_id change")
    print(json.dumps({"key_arn": key["KeyMetadata"]["Arn"]}))
elif command == "asg":
    subnets = arg.split(",")
    vpc_id = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    sg = ec2.create_security_group(
        GroupName="percona-server-verify-2", Description="second monitored ASG", VpcId=vpc_id
    )["GroupId"]
    ec2.create_launch_template(
        LaunchTemplateName="percona-server-verify-2",
        LaunchTemplateData={"InstanceType": "t3.micro", "SecurityGroupIds": [sg]},
    )
    boto3.client("autoscaling", **kw).create_auto_scaling_group(
        AutoScalingGroupName="percona-server-verify-2",
        LaunchTemplate={"LaunchTemplateName": "percona-server-verify-2"},
        MinSize=0,
        MaxSize=1,
        DesiredCapacity=0,
        VPCZoneIdentifier=",".join(subnets),
    )
    print(json.dumps({"asg_name": "percona-server-verify-2", "security_group_id": sg}))
elif command == "volume":
    vols = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [arg]}])["Volumes"]
    if not vols:
        print(json.dumps(None))
    else:
        v = vols[0]
        print(
            json.dumps(
                {
                    "state": v["State"],
                    "az": v["AvailabilityZone"],
                    "snapshot_id": v.get("SnapshotId", ""),
                    "attached_to": [a["InstanceId"] for a in v.get("Attachments", [])],
                    "tags": {t["Key"]: t["Value"] for t in v.get("Tags", [])},
                }
            )
        )
else:
    sys.exit(f"day2_fixtures: unknown command {command}")
