-- Run once by the postgres image, when its data volume is first initialised
-- (/docker-entrypoint-initdb.d). One database per service: a service owns its data and no
-- service reads another's tables. Each service migrates its own schema at start-up
-- (MIGRATE_ON_START=1), so nothing but the empty databases is created here.
--
-- Local demo only: every service connects as the superuser from POSTGRES_USER. In
-- production give each service its own role that owns only its database
-- (docs/operations.md, "Backups" and deploy/k8s/README.md).
CREATE DATABASE crm_leads;
CREATE DATABASE crm_accounts;
CREATE DATABASE crm_support;
CREATE DATABASE crm_notify;
