"""Starts moto in server mode on 127.0.0.1:PORT with extra AMIs in its image catalog.

Usage: python moto_server.py PORT EXTRA_AMIS_JSON OUT_AMIS_JSON

moto ships a fixed AMI list (MOTO_AMIS_PATH replaces it). The module looks up Canonical's
Ubuntu Pro image by name and owner, which is not in that list, so the pipeline writes
stand-in images matching the module's own `data.aws_ami` filters to EXTRA_AMIS_JSON; they
are appended to moto's default list and the result is written to OUT_AMIS_JSON.

moto 5.2.5 serializes an empty <association/> for every instance network interface in
DescribeInstances, which the AWS provider reads as associate_public_ip_address = true (a
forced replacement on every plan of an instance with associate_public_ip_address = false).
The serializer is told to drop every empty Association element, as moto already does for
DescribeNetworkInterfaces.

A terminated instance also releases the network interfaces it keeps (see below), as EC2 does.
"""

import gzip
import importlib.util
import json
import os
import sys

port, extra_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
moto_dir = importlib.util.find_spec("moto").submodule_search_locations[0]
with gzip.open(os.path.join(moto_dir, "ec2", "resources", "amis.json.gz"), "rt") as f:
    amis = json.load(f)
with open(extra_path, encoding="utf-8") as f:
    amis.extend(json.load(f))
with open(out_path, "w", encoding="utf-8") as f:
    json.dump(amis, f)
os.environ["MOTO_AMIS_PATH"] = out_path  # read when moto.ec2 is imported: set it first

from moto.core.serialize import return_if_not_empty  # noqa: E402
from moto.ec2.responses._base_response import EC2BaseResponse  # noqa: E402

EC2BaseResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER[
    ".Association"
] = return_if_not_empty

from moto.ec2.models.instances import Instance  # noqa: E402
from moto.server import main  # noqa: E402

# EC2 detaches a network interface that is not deleted on termination when its instance
# terminates (it becomes "available" and can be the primary interface of a new instance);
# moto 5.2.5 leaves it attached, so the module's persistent interface could be neither
# reused by a replacement instance nor deleted. Detach it as EC2 does.
_terminate = Instance.terminate


def _terminate_detaching_kept_interfaces(self):
    kept = [nic for nic in self.nics.values() if not nic.delete_on_termination]
    state = _terminate(self)
    for nic in kept:
        if nic.instance is self:
            nic.instance = None
            nic.attachment_id = None
            nic.attach_time = None
            nic.status = "available"
            nic.device_index = None
    return state


Instance.terminate = _terminate_detaching_kept_interfaces

main(["-H", "127.0.0.1", "-p", port])
