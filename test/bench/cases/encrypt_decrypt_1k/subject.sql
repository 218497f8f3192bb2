SELECT security.decrypt(security.encrypt(repeat('PHI-', 256), 'ctx'), 'ctx');
