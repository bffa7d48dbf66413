/*
 * citus.c
 *	  Recognising Citus tables.
 *
 * Citus records every table it manages in pg_dist_partition: partmethod
 * 'h' (hash), 'r' (range) or 'a' (append) for a distributed table with a
 * distribution column, 'n' for the others, which repmodel 't' makes a
 * reference table, and otherwise a single-shard distributed table (when
 * co-located, colocationid <> 0) or a Citus managed local table.  The
 * catalog only exists once "CREATE EXTENSION citus" ran, so it is read only
 * then; its statements run with search_path pinned and qualified names.
 */
#include "postgres.h"

#include "commands/extension.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "citus.h"
#include "internal_sql.h"

/*
 * Whether the Citus extension exists in this database.  A cheap catalog
 * look-up, so callers may ask once per statement they generate.
 */
bool
elt_citus_loaded(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

EltTableKind
elt_table_kind(Oid relid)
{
	static InternalSqlPlan plan;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	EltTableKind kind = ELT_TABLE_LOCAL;

	if (!OidIsValid(relid) || !elt_citus_loaded())
		return ELT_TABLE_LOCAL;

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	internal_sql_exec_plan(&plan, InvalidOid,
						   "SELECT p.partmethod::pg_catalog.text, "
						   "p.repmodel::pg_catalog.text, p.colocationid "
						   "FROM pg_catalog.pg_dist_partition p "
						   "WHERE p.logicalrelid = $1",
						   1, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		char	   *method = internal_sql_text(0, 1);
		char	   *repmodel = internal_sql_text(0, 2);
		int32		colocation = internal_sql_int32(0, 3, 0);

		if (method != NULL && method[0] != 'n')
			kind = ELT_TABLE_DISTRIBUTED;
		else if (repmodel != NULL && repmodel[0] == 't')
			kind = ELT_TABLE_REFERENCE;
		else if (colocation != 0)
			kind = ELT_TABLE_DISTRIBUTED;
		else
			kind = ELT_TABLE_CITUS_LOCAL;
	}
	SPI_finish();
	return kind;
}

char *
elt_distribution_column(Oid relid)
{
	static InternalSqlPlan plan;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	char	   *result = NULL;

	if (!OidIsValid(relid) || !elt_citus_loaded())
		return NULL;

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	internal_sql_exec_plan(&plan, InvalidOid,
						   "SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) "
						   "FROM pg_catalog.pg_dist_partition p "
						   "WHERE p.logicalrelid = $1 AND p.partmethod <> 'n' "
						   "AND p.partkey IS NOT NULL",
						   1, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed > 0 && !internal_sql_isnull(0, 1))
	{
		char	   *name = internal_sql_text(0, 1);

		result = SPI_palloc(strlen(name) + 1);
		strcpy(result, name);
	}
	SPI_finish();
	return result;
}

char
elt_distribution_method(Oid relid)
{
	static InternalSqlPlan plan;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	char		result = '\0';

	if (!OidIsValid(relid) || !elt_citus_loaded())
		return '\0';

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	internal_sql_exec_plan(&plan, InvalidOid,
						   "SELECT p.partmethod::pg_catalog.text "
						   "FROM pg_catalog.pg_dist_partition p "
						   "WHERE p.logicalrelid = $1",
						   1, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed > 0 && !internal_sql_isnull(0, 1))
		result = internal_sql_text(0, 1)[0];
	SPI_finish();
	return result;
}

const char *
elt_table_kind_name(EltTableKind kind)
{
	switch (kind)
	{
		case ELT_TABLE_LOCAL:
			return "local table";
		case ELT_TABLE_REFERENCE:
			return "reference table";
		case ELT_TABLE_DISTRIBUTED:
			return "distributed table";
		case ELT_TABLE_CITUS_LOCAL:
			return "Citus local table";
	}
	return "table";
}
