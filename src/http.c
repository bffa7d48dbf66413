/* being written */
#include "postgres.h"
#include "http.h"
void http_init(void) {}
