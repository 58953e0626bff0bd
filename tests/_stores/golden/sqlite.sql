-- params: [datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2024, 1, 2, 0, 0), 'eu']
-- CAST("d""; DROP TABLE t; --" AS DATE) -> DATE("d""; DROP TABLE t; --")
DELETE FROM "sales.daily" WHERE (DATETIME("time", 'unixepoch')) >= ? AND (DATETIME("time", 'unixepoch')) < ? AND ("k""`; DROP TABLE t; --" IN (?) OR "k""`; DROP TABLE t; --" IS NULL)
INSERT INTO "sales.daily" ("time", "k""`; DROP TABLE t; --", "value") SELECT "time", "k""`; DROP TABLE t; --", "value" FROM __src
SELECT count(*) FROM "sales.daily" WHERE (DATETIME("time", 'unixepoch')) >= ? AND (DATETIME("time", 'unixepoch')) < ? AND ("k""`; DROP TABLE t; --" IN (?) OR "k""`; DROP TABLE t; --" IS NULL)
DELETE FROM "sales.daily" WHERE TRUE AND ("k""`; DROP TABLE t; --") IN (SELECT "k""`; DROP TABLE t; --" FROM __src)
SELECT "k""`; DROP TABLE t; --", count(*) FROM __src GROUP BY "k""`; DROP TABLE t; --" HAVING count(*) > 1 LIMIT 1
SELECT "time", "k""`; DROP TABLE t; --", "value" FROM "sales.daily" WHERE (DATETIME("time", 'unixepoch')) >= ? AND (DATETIME("time", 'unixepoch')) < ? AND ("k""`; DROP TABLE t; --" IN (?) OR "k""`; DROP TABLE t; --" IS NULL)
DROP TABLE IF EXISTS "sales.daily"
DELETE FROM "__wharf_tables" WHERE name = 'sales.daily'
ALTER TABLE "sales.__stage" RENAME TO "sales.daily"
UPDATE "__wharf_tables" SET name = 'sales.daily' WHERE name = 'sales.__stage'
INSERT OR REPLACE INTO "__wharf_tables" (name, comment) VALUES ('sales.daily', 'c2NoZW1h')
CREATE TABLE "sales.__stage" ("k""`; DROP TABLE t; --" INTEGER, "ts" TEXT, "amount" TEXT, "day" TEXT, "tags" TEXT, "flag" INTEGER, "blob" BLOB)
