-- Host metrics: normalize in one pump, score in a second, fan out to two destinations.
-- The input's columns are declared here (KDA keeps them in the input schema).
CREATE OR REPLACE STREAM "SOURCE_SQL_STREAM_001" (
    "host"       VARCHAR(16),
    "cpu"        DOUBLE,
    "mem"        BIGINT,
    "mem base"   BIGINT);

CREATE OR REPLACE STREAM "NORMALIZED" (
    "cpu_frac"   DOUBLE,
    "mem_used"   DOUBLE,
    "host"       VARCHAR(16));

CREATE OR REPLACE STREAM "SCORED" (
    "cpu_frac"   DOUBLE,
    "mem_used"   DOUBLE,
    "host"       VARCHAR(16),
    ANOMALY_SCORE DOUBLE);

CREATE OR REPLACE STREAM "ALL_SCORES" (
    "cpu_frac"   DOUBLE,
    "mem_used"   DOUBLE,
    "host"       VARCHAR(16),
    ANOMALY_SCORE DOUBLE);

CREATE OR REPLACE STREAM "ALERTS" (
    "host"       VARCHAR(16),
    ANOMALY_SCORE DOUBLE);

CREATE OR REPLACE PUMP "NORMALIZE_PUMP" AS INSERT INTO "NORMALIZED"
    SELECT STREAM "cpu" / 100, ("mem" - "mem base") / -1e9 * -1, "host"
    FROM "SOURCE_SQL_STREAM_001";

CREATE OR REPLACE PUMP "SCORE_PUMP" AS INSERT INTO "SCORED"
    SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(
        CURSOR(SELECT STREAM * FROM "NORMALIZED"), 40, 64, 5000, 4)) AS "R"
    WHERE "R".ANOMALY_SCORE >= 0;

CREATE OR REPLACE PUMP "ALL_PUMP" AS INSERT INTO "ALL_SCORES"
    SELECT STREAM * FROM "SCORED";

CREATE OR REPLACE PUMP "ALERT_PUMP" AS INSERT INTO "ALERTS" ("host", ANOMALY_SCORE)
    SELECT STREAM "host", ANOMALY_SCORE FROM "SCORED"
    WHERE 2 < ANOMALY_SCORE AND ANOMALY_SCORE > 1;
