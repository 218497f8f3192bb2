-- A small sample of the VitaLuxe application's own schema, for the demo.
-- The extension never owns these tables: it watches them (orders), protects their PHI
-- columns and mirrors app.accounts into security.accounts.

CREATE SCHEMA app;

CREATE TABLE app.practices (
    id      uuid PRIMARY KEY,
    name    text NOT NULL,
    states  text[] NOT NULL          -- US states the practice ships to
);

CREATE TABLE app.accounts (
    id          uuid PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('admin', 'provider', 'staff', 'nurse', 'pharmacy')),
    practice_id uuid REFERENCES app.practices (id),
    timezone    text NOT NULL DEFAULT 'America/New_York'
);

CREATE TABLE app.patients (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES app.practices (id),
    first_name  text NOT NULL,
    last_name   text NOT NULL,
    dob         date NOT NULL,
    allergies   text,                -- PHI
    notes       text                 -- PHI
);

CREATE TABLE app.products (
    id           integer PRIMARY KEY,
    name         text NOT NULL,
    dea_schedule smallint CHECK (dea_schedule BETWEEN 2 AND 5),   -- NULL: not controlled
    unit         text NOT NULL
);

CREATE TABLE app.orders (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES app.practices (id),
    patient_id  uuid NOT NULL REFERENCES app.patients (id),
    ship_state  char(2) NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_patient_created_idx ON app.orders (patient_id, created_at);

CREATE TABLE app.order_lines (
    id            uuid PRIMARY KEY,
    order_id      uuid NOT NULL REFERENCES app.orders (id),
    product_id    integer NOT NULL REFERENCES app.products (id),
    quantity      integer NOT NULL CHECK (quantity > 0),
    prescription  text,              -- PHI
    custom_dosage text,              -- PHI
    custom_sig    text               -- PHI
);
CREATE INDEX order_lines_order_idx ON app.order_lines (order_id);

CREATE TABLE app.practice_payment_methods (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES app.practices (id),
    plaid_token text                 -- secret
);
