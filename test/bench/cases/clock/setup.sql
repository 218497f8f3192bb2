-- Nothing to prepare: security.now() needs only the extension.
SELECT 1;
