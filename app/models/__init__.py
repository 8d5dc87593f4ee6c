"""ORM tables, one module per aggregate. Importing this package registers them all."""

from app.models.accounts import ApiKey
from app.models.institutions import Institution, Unit
from app.models.regions import Region

__all__ = ["ApiKey", "Institution", "Region", "Unit"]
