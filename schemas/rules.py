"""Names of the contract rules a delivery can break, with what the sender should do about each."""

from typing import Final

# Whole-file rules: the file is refused, recorded in audit.loads with its reason.
EMPTY_FILE: Final = "empty_file"
MISSING_REQUIRED_COLUMN: Final = "missing_required_column"
MANIFEST_HASH_MISMATCH: Final = "manifest_hash_mismatch"
UNDECODABLE: Final = "undecodable"
DIRECT_IDENTIFIER: Final = "direct_identifier"
UNKNOWN_TABLE: Final = "unknown_table"
UNREADABLE: Final = "unreadable"
SYMLINK: Final = "symlink"
SPECIAL_FILE: Final = "special_file"
MANIFEST_UNREADABLE: Final = "manifest_unreadable"
INVALID_PROFILE: Final = "invalid_profile"
MISSPELT_COLUMN: Final = "misspelt_column"
INTERNAL_ERROR: Final = "internal_error"
DUPLICATE_COLUMN: Final = "duplicate_column"
RESOURCE_LIMIT: Final = "resource_limit"
READER_CRASHED: Final = "reader_crashed"
UNKNOWN_SENDER: Final = "unknown_sender"
SENDER_MISMATCH: Final = "sender_mismatch"

# A file not yet complete is not judged: recorded as deferred in audit.loads, loaded on a later run.
FILE_INCOMPLETE: Final = "file_incomplete"

# Row rules: the row goes to audit.quarantine with file, line, column, value and reason.
MISSING_VALUE: Final = "missing_value"
INVALID_TYPE: Final = "invalid_type"
OUT_OF_RANGE: Final = "out_of_range"
UNKNOWN_UNIT: Final = "unknown_unit"
INVALID_CATEGORY: Final = "invalid_category"
AMBIGUOUS_DATE: Final = "ambiguous_date"
DUPLICATE_KEY: Final = "duplicate_key"
MALFORMED_ROW: Final = "malformed_row"
CONTROL_CHARACTER: Final = "control_character"
# Row rules of senders' authority and the order of corrections (rtr/ingest/authority.py, stale.py).
NOT_AUTHORISED: Final = "not_authorised"
SITE_CHANGE: Final = "site_change"
SITE_UNKNOWN: Final = "site_unknown"
STALE: Final = "stale"
# Rules of a manifest's retraction list and key map (one quarantine record per entry).
UNKNOWN_KEY: Final = "unknown_key"
KEY_MERGE: Final = "key_merge"
INVALID_DECLARATION: Final = "invalid_declaration"

FILE_RULES: Final = (
    EMPTY_FILE,
    MISSING_REQUIRED_COLUMN,
    MANIFEST_HASH_MISMATCH,
    UNDECODABLE,
    DIRECT_IDENTIFIER,
    UNKNOWN_TABLE,
    UNREADABLE,
    SYMLINK,
    SPECIAL_FILE,
    MANIFEST_UNREADABLE,
    INVALID_PROFILE,
    MISSPELT_COLUMN,
    INTERNAL_ERROR,
    DUPLICATE_COLUMN,
    RESOURCE_LIMIT,
    READER_CRASHED,
    UNKNOWN_SENDER,
    SENDER_MISMATCH,
)
ROW_RULES: Final = (
    MISSING_VALUE,
    INVALID_TYPE,
    OUT_OF_RANGE,
    UNKNOWN_UNIT,
    INVALID_CATEGORY,
    AMBIGUOUS_DATE,
    DUPLICATE_KEY,
    MALFORMED_ROW,
    CONTROL_CHARACTER,
    NOT_AUTHORISED,
    SITE_CHANGE,
    SITE_UNKNOWN,
    STALE,
    UNKNOWN_KEY,
    KEY_MERGE,
    INVALID_DECLARATION,
)

REMEDY: Final[dict[str, str]] = {
    EMPTY_FILE: "send the file again with its header and rows",
    MISSING_REQUIRED_COLUMN: "add the column named in the reason (see DATA_CONTRACT.md) and re-send",
    MANIFEST_HASH_MISMATCH: "re-send the file unchanged, or correct its SHA-256 in manifest.json",
    UNDECODABLE: "export the file as UTF-8 and re-send",
    DIRECT_IDENTIFIER: "pseudonymise: drop the identifying column and keep only pseudonymised ids",
    UNKNOWN_TABLE: "send it as a contract table, a standard export rtr reads, or with a source profile, as the reason says",
    UNREADABLE: "the file is corrupt or not in the format its name claims; export it again",
    SYMLINK: "deliver the file itself, not a link to it: links are never followed",
    SPECIAL_FILE: "deliver regular files only (no pipes, sockets or devices)",
    MANIFEST_UNREADABLE: "re-send manifest.json as JSON listing each file's name and SHA-256; "
    "no file of the delivery is loaded until its manifest can be checked",
    INVALID_PROFILE: "correct the source profile where the reason says (file, line, nearest valid key) "
    "and re-send the files it covers",
    MISSPELT_COLUMN: "rename the column to the contract's name given in the reason and re-send",
    INTERNAL_ERROR: "rtr failed while reading this file (the rest of the delivery loaded): report it "
    "to the rtr team with the file",
    DUPLICATE_COLUMN: "give each column one header; two headers that differ only in case or "
    "surrounding spaces name the same column",
    RESOURCE_LIMIT: "split the file into smaller ones or remove what makes it exceed the limit "
    "named in the reason; an operator can raise the limit if the file is genuine",
    READER_CRASHED: "export the file again with the sending system; if it keeps failing, send it "
    "to the rtr team",
    MISSING_VALUE: "fill in the required value and re-send the row",
    INVALID_TYPE: "send a value of the column's type (see DATA_CONTRACT.md)",
    OUT_OF_RANGE: "check the value and its unit; correct and re-send the row",
    UNKNOWN_UNIT: "send the value in the code's canonical unit or a convertible one",
    INVALID_CATEGORY: "use one of the allowed values named in the reason",
    AMBIGUOUS_DATE: "write dates as ISO 8601 (YYYY-MM-DD)",
    DUPLICATE_KEY: "send one row per key; a later delivery with the same key is a correction",
    MALFORMED_ROW: "quote values that contain the separator, so each row has as many fields as the header",
    CONTROL_CHARACTER: "remove the control or text-direction characters (NUL, escape, bidi "
    "overrides...) from the value and re-send the row",
    UNKNOWN_SENDER: "register the sender in the senders registry (senders.yaml: its id, sites and "
    'delivery folder patterns), or name a registered sender in manifest.json\'s "sender"',
    SENDER_MISMATCH: "deliver into the sender's own folder, or correct manifest.json's \"sender\"",
    FILE_INCOMPLETE: "nothing to do if the upload is still running: the file is loaded on a later run "
    "once complete; otherwise re-send it, with its SHA-256 in manifest.json",
    NOT_AUTHORISED: "send only records of the sites your organisation speaks for; the site's own "
    "sender makes this correction, or the registry must list the site for you",
    SITE_CHANGE: "a record stays at its site: retract it there and send it from the new site",
    SITE_UNKNOWN: "send the record it belongs to first (its subjects or lots row), in this delivery "
    "or an earlier one",
    STALE: "nothing to do if the newer values are right; otherwise send the correction from a newer "
    'extract (manifest.json "extracted_at")',
    UNKNOWN_KEY: "check the key: only a record in the warehouse can be retracted or re-keyed",
    KEY_MERGE: "the new key already names another record; retract one of them first, or choose "
    "another new key",
    INVALID_DECLARATION: "write the entry as docs/data-contract.md shows (table, key, reason / "
    "column, old, new, reason)",
}
