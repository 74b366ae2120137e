"""Names of the IVOA Provenance Data Model and how they map onto W3C PROV.

This is the only module that spells the spec names (``startTime``, ``ActivityDescription``...).
IVOA classes are W3C records with ``prov:type`` in the ``voprov`` namespace; IVOA relations that
W3C lacks (isDescribedBy, wasConfiguredBy, hadReference, hadStep) are ``wasInfluencedBy`` records
with such a ``prov:type``. Two voprov namespace URIs are in use; both are accepted on input and
:data:`VOPROV` is written.
"""

from __future__ import annotations

from prov.identifier import Namespace

PROV_URI = "http://www.w3.org/ns/prov#"
XSD_URI = "http://www.w3.org/2001/XMLSchema#"

#: The URI the voprov package writes (``voprov/models/constants.py``); provhub writes it too.
VOPROV_URI = "http://www.ivoa.net/documents/ProvenanceDM/index.html#"
#: The URI of the 2019 IVOA working draft; accepted and treated as the same namespace.
VOPROV_URI_WD = "http://www.ivoa.net/documents/dm/provdm/voprov/"
VOPROV_URIS = (VOPROV_URI, VOPROV_URI_WD)

VOPROV = Namespace("voprov", VOPROV_URI)
PROVHUB = Namespace("provhub", "https://provhub.org/ns#")
#: Keywords from FITS headers that have no mapping are kept in this namespace (importers).
FITS = Namespace("fits", "https://provhub.org/ns/fits#")

#: IVOA classes serialised as W3C entities/activities/agents with prov:type voprov:<Name>.
IVOA_ENTITY_CLASSES = (
    "ActivityDescription",
    "EntityDescription",
    "UsageDescription",
    "GenerationDescription",
    "DatasetDescription",
    "ValueDescription",
    "Parameter",
    "ParameterDescription",
    "ConfigFile",
    "ConfigFileDescription",
    "ValueEntity",
    "DatasetEntity",
)
IVOA_ACTIVITY_CLASSES = ("ActivityFlow",)

#: IVOA relations expressed as wasInfluencedBy + prov:type voprov:<name> (local names, any case
#: variants voprov wrote are listed too).
DESCRIPTION_RELATIONS = (
    "isDescribedBy",
    "DescriptionRelation",
    "wasConfiguredBy",
    "ConfigurationRelation",
    "hadReference",
    "isRelatedTo",
    "RelatedToRelation",
)
STEP_RELATIONS = ("hadStep",)
#: the description relation that ties descriptions together (a UsageDescription to its
#: ActivityDescription...), and the name get_w3c() gives it
RELATED_TO_RELATIONS = ("isRelatedTo", "RelatedToRelation")

#: Attributes (IRIs) whose qualified-name value names a description: the UsageDescription or
#: GenerationDescription of a used / wasGeneratedBy (voprov writes ``voprov:descriptor``).
DESCRIPTOR_ATTRIBUTES = tuple(base + "descriptor" for base in VOPROV_URIS)
#: prov:type, as an attribute IRI
TYPE_ATTRIBUTES = (PROV_URI + "type",)

# -- relations ---------------------------------------------------------------------------------

#: PROV-N name of each relation -> (source formal attribute, target formal attribute).
#: Source/target are the first two formal arguments: the edge in the store goes source -> target,
#: which is "effect -> cause" for processing relations.
RELATION_ENDPOINTS = {
    "used": ("prov:activity", "prov:entity"),
    "wasGeneratedBy": ("prov:entity", "prov:activity"),
    "wasInformedBy": ("prov:informed", "prov:informant"),
    "wasStartedBy": ("prov:activity", "prov:trigger"),
    "wasEndedBy": ("prov:activity", "prov:trigger"),
    "wasInvalidatedBy": ("prov:entity", "prov:activity"),
    "wasDerivedFrom": ("prov:generatedEntity", "prov:usedEntity"),
    "wasAttributedTo": ("prov:entity", "prov:agent"),
    "wasAssociatedWith": ("prov:activity", "prov:agent"),
    "actedOnBehalfOf": ("prov:delegate", "prov:responsible"),
    "wasInfluencedBy": ("prov:influencee", "prov:influencer"),
    "alternateOf": ("prov:alternate1", "prov:alternate2"),
    "specializationOf": ("prov:specificEntity", "prov:generalEntity"),
    "mentionOf": ("prov:specificEntity", "prov:generalEntity"),
    "hadMember": ("prov:collection", "prov:entity"),
}

#: Formal attributes that are not endpoints but must agree when two records share an id.
FORMAL_ATTRIBUTES = {
    "prov:time",
    "prov:startTime",
    "prov:endTime",
    "prov:plan",
    "prov:activity",
    "prov:generation",
    "prov:usage",
    "prov:starter",
    "prov:ender",
    "prov:bundle",
}

#: Relation categories used by lineage (ProvSAP) traversal, see provhub/app/stores/base.py.
CAUSAL = "causal"  # followed in the DIRECTION asked for (BACK: source -> target)
SHORTCUT = "shortcut"  # wasDerivedFrom, wasInformedBy: causal short-cuts (see provhub/app/stores/base.py)
INVALIDATION = "invalidation"  # wasInvalidatedBy: not a cause; FORTH follows entity -> activity
AGENT = "agent"  # towards agents: attached to every returned record; AGENT=true expands
MEMBER = "member"  # collection -> member: attached upwards; MEMBERS=true descends
STEP = "step"  # activity flow -> step: attached upwards; STEPS=true descends
DESCRIPTION = "description"  # IVOA descriptions/configuration: attached (MODEL=IVOA)
OTHER = "other"  # alternateOf, specializationOf, mentionOf: stored, not traversed

RELATION_CATEGORY = {
    "used": CAUSAL,
    "wasGeneratedBy": CAUSAL,
    "wasInformedBy": SHORTCUT,
    "wasDerivedFrom": SHORTCUT,
    "wasInfluencedBy": CAUSAL,
    "wasStartedBy": CAUSAL,
    "wasEndedBy": CAUSAL,
    "wasInvalidatedBy": INVALIDATION,
    "wasAttributedTo": AGENT,
    "wasAssociatedWith": AGENT,
    "actedOnBehalfOf": AGENT,
    "hadMember": MEMBER,
    "alternateOf": OTHER,
    "specializationOf": OTHER,
    "mentionOf": OTHER,
}

CATEGORIES = (CAUSAL, SHORTCUT, INVALIDATION, AGENT, MEMBER, STEP, DESCRIPTION, OTHER)


def voprov_local(uri: str) -> str | None:
    """The local name of a voprov IRI (either namespace URI), else None."""
    for base in VOPROV_URIS:
        if uri.startswith(base):
            return uri[len(base) :]
    return None


def relation_category(rel_type: str, prov_types: list[str]) -> str:
    """Category of a relation given its PROV-N name and the IRIs of its prov:type values."""
    if rel_type == "wasInfluencedBy":
        for t in prov_types:
            local = voprov_local(t)
            if local in STEP_RELATIONS:
                return STEP
            if local in DESCRIPTION_RELATIONS:
                return DESCRIPTION
    return RELATION_CATEGORY.get(rel_type, OTHER)
