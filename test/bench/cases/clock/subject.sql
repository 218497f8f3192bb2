SELECT security.now();
