"""The contract's input tables (DATA_CONTRACT.md v1) as code."""

from schemas.columns import Column, Measurement, Table

CONTRACT_VERSION = "1"

C = Column

MATERIAL_TYPES = ("leukapheresis", "bone_marrow", "adipose", "cord_blood", "ipsc_bank", "other")
MODALITIES = (
    "autologous_car_t",
    "allogeneic_car_t",
    "msc",
    "ipsc_derived",
    "gene_therapy_vector",
    "other",
)
DISPOSITIONS = ("released", "released_out_of_spec", "rejected", "pending")
SAMPLE_STAGES = ("starting_material", "in_process", "final_product")
SEXES = ("F", "M", "U")
CRITERIA = ("LUGANO2014", "IWCLL2018", "IMWG", "RECIST1.1", "IRECIST", "PCWG3", "RANO", "other")
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
AE_TERMS = ("CRS", "ICANS", "infection", "cytopenia", "HLH", "other")
GRADING_SYSTEMS = ("ASTCT2019", "CTCAE5")
BRIDGING = ("none", "chemo", "radiation", "other")

COLLECTIONS = Table(
    name="collections",
    sender="manufacturing",
    grain="one row per starting-material collection",
    key=("collection_id",),
    columns=(
        C("collection_id", "str", "Collection identifier", required=True),
        C("coi_id", "str", "Chain-of-identity id carried from collection to infusion"),
        C("subject_id", "str", "Pseudonymised patient id; empty for allogeneic donors"),
        C("donor_id", "str", "Allogeneic donor id"),
        C("collection_site_id", "str", "Where the material was collected"),
        C("collection_date", "date", "Date of collection", required=True),
        C("material_type", "str", "Kind of starting material", allowed=MATERIAL_TYPES),
    ),
)

LOTS = Table(
    name="lots",
    sender="manufacturing",
    grain="one row per manufacturing lot",
    key=("lot_id",),
    columns=(
        C("lot_id", "str", "Lot (batch) identifier", required=True),
        C("coi_id", "str", "Chain-of-identity id; autologous lots carry the collection's"),
        C("collection_id", "str", "Collection the lot was made from"),
        C("product_code", "str", "Product, e.g. CART-CD19-41BB", required=True),
        C("modality", "str", "Kind of product", required=True, allowed=MODALITIES),
        C("process_version", "str", "Manufacturing process version"),
        C("manufacturing_site_id", "str", "CDMO site that made the lot"),
        C("start_date", "date", "Start of manufacture"),
        C("harvest_date", "date", "Harvest date"),
        C("release_date", "date", "QA release date; empty until released"),
        C("disposition", "str", "QA disposition", required=True, allowed=DISPOSITIONS),
        C(
            "doses_produced",
            "int",
            "Doses made from the lot (allogeneic)",
            minimum=0,
            maximum=100_000,
        ),
    ),
)

PROCESS_PARAMETERS = Table(
    name="process_parameters",
    sender="manufacturing",
    grain="one row per lot, parameter and recording time",
    key=("lot_id", "parameter_code", "recorded_at"),
    one_of=("value_num", "value_text"),
    measurement=Measurement(
        "process_parameter", "parameter_code", "value_num", "unit", "value_text"
    ),
    columns=(
        C("lot_id", "str", "Lot", required=True),
        C(
            "parameter_code",
            "str",
            "Process parameter code (vocabulary or sender's own)",
            required=True,
        ),
        C("value_num", "float", "Numeric value in the code's canonical unit"),
        C("value_text", "str", "Text value"),
        C("unit", "str", "Unit of value_num (canonical after loading)"),
        C("recorded_at", "timestamp", "When the value was recorded (UTC)"),
    ),
)

QUALITY_RESULTS = Table(
    name="quality_results",
    sender="manufacturing",
    grain="one row per lot, sample stage, test and result date",
    key=("lot_id", "sample_stage", "test_code", "result_date"),
    one_of=("result_num", "result_text"),
    measurement=Measurement("quality", "test_code", "result_num", "unit", "result_text"),
    columns=(
        C("lot_id", "str", "Lot", required=True),
        C("sample_stage", "str", "Stage sampled", required=True, allowed=SAMPLE_STAGES),
        C("test_code", "str", "Test code (vocabulary or sender's own)", required=True),
        C("result_num", "float", "Numeric result in the code's canonical unit"),
        C("result_text", "str", "Text result (e.g. negative)"),
        C("unit", "str", "Unit of result_num (canonical after loading)"),
        C("spec_lower", "float", "Lower specification limit, in the result's unit"),
        C("spec_upper", "float", "Upper specification limit, in the result's unit"),
        C("spec_text", "str", "Text specification (e.g. negative)"),
        C("result_date", "date", "Date of the result"),
        C("method", "str", "Analytical method"),
    ),
)

IN_PROCESS_TIMESERIES = Table(
    name="in_process_timeseries",
    sender="manufacturing",
    grain="one row per lot, measure and observation time",
    key=("lot_id", "observed_at", "measure_code"),
    measurement=Measurement("in_process", "measure_code", "value", "unit"),
    columns=(
        C("lot_id", "str", "Lot", required=True),
        C("observed_at", "timestamp", "Observation time (UTC)", required=True),
        C("measure_code", "str", "Measure code", required=True),
        C("value", "float", "Value in the measure's canonical unit", required=True),
        C("unit", "str", "Unit of value (canonical after loading)", required=True),
    ),
)

SUBJECTS = Table(
    name="subjects",
    sender="clinical",
    grain="one row per patient",
    key=("subject_id",),
    columns=(
        C("subject_id", "str", "Pseudonymised patient id", required=True),
        C("site_id", "str", "Treating hospital", required=True),
        C("coi_id", "str", "Chain-of-identity id"),
        C("sex", "str", "Sex", allowed=SEXES),
        C("age_years", "int", "Age at infusion", minimum=0, maximum=120, unit="years"),
        C("weight_kg", "float", "Body weight", minimum=1, maximum=400, unit="kg"),
        C("indication", "str", "Indication, e.g. DLBCL, ALL, MM"),
        C("disease_stage", "str", "Disease stage"),
        C("ecog", "int", "ECOG performance status", minimum=0, maximum=4),
        C("ldh_u_l", "float", "Baseline LDH", minimum=0, maximum=20_000, unit="U/L"),
        C(
            "tumor_burden_spd_mm2",
            "float",
            "Sum of products of diameters",
            minimum=0,
            maximum=1e6,
            unit="mm2",
        ),
        C("prior_lines", "int", "Prior lines of therapy", minimum=0, maximum=30),
        C("extranodal_sites", "int", "Extranodal sites", minimum=0, maximum=30),
    ),
)

INFUSIONS = Table(
    name="infusions",
    sender="clinical",
    grain="one row per subject, lot and infusion date",
    key=("subject_id", "lot_id", "infusion_date"),
    columns=(
        C("subject_id", "str", "Patient", required=True),
        C("lot_id", "str", "Lot infused", required=True),
        C("infusion_date", "date", "Date of infusion", required=True),
        C(
            "dose_total_cells",
            "float",
            "Total cells infused",
            minimum=0,
            maximum=1e12,
            unit="cells",
        ),
        C(
            "dose_per_kg",
            "float",
            "Cells per kg body weight",
            minimum=0,
            maximum=1e10,
            unit="cells/kg",
        ),
        C("lymphodepletion", "str", "Lymphodepleting regimen, e.g. flu_cy, bendamustine, none"),
        C("bridging_therapy", "str", "Bridging therapy", allowed=BRIDGING),
    ),
)

RESPONSES_TABLE = Table(
    name="responses",
    sender="clinical",
    grain="one row per subject, assessment date, criteria and best-overall flag",
    key=("subject_id", "assessment_date", "criteria", "is_best_overall"),
    columns=(
        C("subject_id", "str", "Patient", required=True),
        C("assessment_date", "date", "Date of assessment", required=True),
        C("response", "str", "Response, mapped to CR/PR/SD/PD/NE", required=True),
        C("criteria", "str", "Response criteria", required=True, allowed=CRITERIA),
        C("is_best_overall", "bool", "This row is the best overall response"),
    ),
)

ADVERSE_EVENTS = Table(
    name="adverse_events",
    sender="clinical",
    grain="one row per subject, event term and onset date",
    key=("subject_id", "ae_term", "onset_date"),
    columns=(
        C("subject_id", "str", "Patient", required=True),
        C("ae_term", "str", "Event term", required=True, allowed=AE_TERMS),
        C("grade", "int", "Grade", required=True, minimum=1, maximum=5),
        C("grading_system", "str", "Grading system", allowed=GRADING_SYSTEMS),
        C("onset_date", "date", "Onset"),
        C("resolution_date", "date", "Resolution"),
        C("serious", "bool", "Serious adverse event"),
    ),
)

FOLLOW_UP = Table(
    name="follow_up",
    sender="clinical",
    grain="one row per patient",
    key=("subject_id",),
    columns=(
        C("subject_id", "str", "Patient", required=True),
        C("last_known_alive_date", "date", "Last contact alive", required=True),
        C("progression_date", "date", "First progression"),
        C("death_date", "date", "Death"),
        C("death_cause", "str", "Cause of death"),
    ),
)

EXPANSION = Table(
    name="expansion",
    sender="clinical",
    grain="one row per subject and sample date",
    key=("subject_id", "sample_date"),
    columns=(
        C("subject_id", "str", "Patient", required=True),
        C("sample_date", "date", "Sample date", required=True),
        C("day_post_infusion", "int", "Days after infusion", minimum=-30, maximum=10_000),
        C(
            "car_transgene_copies_per_ug_dna",
            "float",
            "CAR transgene copies per microgram DNA",
            minimum=0,
            maximum=1e8,
            unit="copies/ug",
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        COLLECTIONS,
        LOTS,
        PROCESS_PARAMETERS,
        QUALITY_RESULTS,
        IN_PROCESS_TIMESERIES,
        SUBJECTS,
        INFUSIONS,
        RESPONSES_TABLE,
        ADVERSE_EVENTS,
        FOLLOW_UP,
        EXPANSION,
    )
}
