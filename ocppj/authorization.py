"""OCPP's authorization vocabulary: id token types and authorization statuses (pure)."""

# 2.0.1 IdTokenEnumType
ID_TOKEN_TYPES = frozenset(
    {
        "Central",
        "eMAID",
        "ISO14443",
        "ISO15693",
        "KeyCode",
        "Local",
        "MacAddress",
        "NoAuthorization",
    }
)
NO_AUTHORIZATION = "NoAuthorization"
# 1.6 AuthorizationStatus; 2.0.1 AuthorizationStatusEnumType adds the rest.
STATUSES_16 = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})
STATUSES_201 = STATUSES_16 | {
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
    "Unknown",
}
