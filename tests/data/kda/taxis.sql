-- Pick-up hotspots: dense regions of (x, y) in the last 200 rides.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    "x"      DOUBLE,
    "y"      DOUBLE,
    "zone"   VARCHAR(8),
    HOTSPOTS_RESULT VARCHAR(10000)
);
CREATE OR REPLACE PUMP "HOTSPOT_PUMP" AS
    INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT "x", "y", "zone", "HOTSPOTS_RESULT"
    FROM TABLE (
        HOTSPOTS(
            CURSOR(SELECT STREAM "x", "y", "zone" FROM "SOURCE_SQL_STREAM_001"),
            200,
            0.5,
            10)
    );
