"""Service-item catalogue models (事项管理), one concept per module."""

from .basic import BasicItem, BasicItemChange, EnterpriseStage, LifeEvent  # noqa: F401
from .files import MaterialFile  # noqa: F401
from .forms import FieldSet  # noqa: F401
from .implementation import HandlingItem, ItemImplementation  # noqa: F401
from .proofs import ProofEntry  # noqa: F401
from .search import SearchEntry, Synonym  # noqa: F401
from .version import (  # noqa: F401
    Fee,
    ItemVersion,
    Material,
    ProcessStep,
    SituationOption,
    SituationQuestion,
)
