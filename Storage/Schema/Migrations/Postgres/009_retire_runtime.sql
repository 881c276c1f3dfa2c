-- Our own actor runtime is gone: grain state now lives in OrleansStorage, reminders in Orleans'
-- reminder table, membership in Orleans' (Redis, or localhost when embedded). Its tables go.
DROP TABLE IF EXISTS grain_state;
DROP TABLE IF EXISTS reminders;
DROP TABLE IF EXISTS silos;
