-- security.encrypt + decrypt of 1 KiB vs pgcrypto's pgp_sym_encrypt + pgp_sym_decrypt.
-- The master key for every session of the bench database (a command, as an HSM CLI would be).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
ALTER DATABASE vlx_bench SET vitaluxe_security.master_key_command =
    'echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
-- The first data key is created here, not inside the measured runs.
SET vitaluxe_security.master_key_command = 'echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
SELECT length(security.decrypt(security.encrypt(repeat('PHI-', 256), 'ctx'), 'ctx'));
