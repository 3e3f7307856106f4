"""Credentials kept outside the site file, read where they are used: the API's token
files (:mod:`files`: refused when open to others) and the secret files and environment
variables a site names for its chargers' passwords (:mod:`passwords`).

The domain only says where a secret is (:class:`~depotctl.domain.charge_points.PasswordRef`);
reading it is the shell's: the OCPP endpoint, the simulated chargers, the controller's
and the client's token handling. Standard library and the domain only.
"""

from depotctl.credentials.files import TokenFileError, read_private_token, read_secret_file
from depotctl.credentials.passwords import CredentialMissing, read_password

__all__ = [
    "CredentialMissing",
    "TokenFileError",
    "read_password",
    "read_private_token",
    "read_secret_file",
]
