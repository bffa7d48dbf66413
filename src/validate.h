/*
 * validate.h
 *	  Definition-time checks of sources, streams and pipeline options.
 *
 * The definition functions and the triggers on elt.source, elt.stream and
 * elt.pipeline call these, so that every definition, however it is
 * written, is checked by the option tables extracts and runs read it with.
 */
#ifndef ELT_VALIDATE_H
#define ELT_VALIDATE_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_validate_source(PG_FUNCTION_ARGS);
extern Datum elt_validate_stream(PG_FUNCTION_ARGS);
extern Datum elt_check_pipeline_options(PG_FUNCTION_ARGS);
extern Datum elt_validate_format_options(PG_FUNCTION_ARGS);

#endif							/* ELT_VALIDATE_H */
