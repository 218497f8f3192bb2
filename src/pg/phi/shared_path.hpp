// The PHI rules over shared memory (see shared_path.cpp).
#pragma once

#include <vector>

#include "pg/phi/rule_inputs.hpp"

namespace vlx::pg::phi {

// Judges and ring-queues the statement's rows in shared memory. False when the shared
// path cannot be used (not preloaded, a threshold beyond the shared capacity): the
// caller takes the table path for every row. Users the full shared table cannot take
// are appended to *table_path_rows (already ring-queued).
bool judge_in_shared_memory(std::vector<Row>& rows, const Params& p, Oid relid, Privileges& priv,
                            std::vector<Row>* table_path_rows);

}  // namespace vlx::pg::phi
