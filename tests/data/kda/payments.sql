-- Card payments: score every payment with the default forest, keep the scores in an
-- intermediate stream, and write them out sorted within each second.
CREATE OR REPLACE STREAM "SCORED_PAYMENTS" (
    "amount"        INTEGER,
    "merchant"      VARCHAR(32),
    "ANOMALY_SCORE" DOUBLE);

CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    "amount"        INTEGER,
    "merchant"      VARCHAR(32),
    "ANOMALY_SCORE" DOUBLE);

CREATE OR REPLACE PUMP "SCORE_PUMP" AS
    INSERT INTO "SCORED_PAYMENTS"
        SELECT STREAM "amount", "merchant", ANOMALY_SCORE
        FROM TABLE(RANDOM_CUT_FOREST(
            CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));

CREATE OR REPLACE PUMP "SORT_PUMP" AS
    INSERT INTO "DESTINATION_SQL_STREAM"
        SELECT STREAM * FROM "SCORED_PAYMENTS"
        ORDER BY FLOOR("SCORED_PAYMENTS".ROWTIME TO SECOND), ANOMALY_SCORE DESC;
