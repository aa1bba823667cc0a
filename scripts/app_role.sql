-- The role the application connects as in production (docs/operations.md).
-- Run as the owner of the tables (the role that runs `flask db upgrade`), after each migration:
--   psql "$OWNER_DATABASE_URL" -v app_role=loyalty_app -f scripts/app_role.sql
-- The app role owns nothing, so it cannot ALTER, DROP or DISABLE the ledger's triggers, and it
-- gets no UPDATE, DELETE or TRUNCATE on the ledger at all. Create it once beforehand:
--   CREATE ROLE loyalty_app LOGIN PASSWORD '...';
\if :{?app_role}
\else
  \set app_role loyalty_app
\endif
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
REVOKE UPDATE, DELETE, TRUNCATE ON loyalty_transactions FROM :"app_role";
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
