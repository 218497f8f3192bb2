SELECT pgp_sym_decrypt(pgp_sym_encrypt(repeat('PHI-', 256), 'pw'), 'pw');
