/*
 * secret_key.c
 *	  Keys for secrets at rest, read from outside the database, and
 *	  AES-256-GCM through OpenSSL's libcrypto.
 *
 * The keys are read from pg_elt.secret_key_file or from the output of
 * pg_elt.secret_key_command, and cached per backend in TopMemoryContext
 * until a setting changes (the assign hooks run again on every reload of
 * the configuration), until set_secret or a rotation asks for them afresh,
 * or until a stored form names a key id the cache does not have.
 *
 * OpenSSL's cipher contexts are memory PostgreSQL does not own; each is
 * created and freed with no ereport in between, so no PG_TRY is needed.
 * Files and pipes are opened through fd.c, which closes them on abort.
 * Buffers holding keys or values are wiped before they are freed.
 */
#include "postgres.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "miscadmin.h"
#include "port.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "pg_elt.h"
#include "secret_key.h"

#define SECRET_FORMAT_VERSION 1
#define KEY_LEN 32
#define KEY_ID_LEN 4
#define NONCE_LEN 12
#define TAG_LEN 16
#define HEADER_LEN (1 + KEY_ID_LEN + NONCE_LEN)
#define OVERHEAD (HEADER_LEN + TAG_LEN)
#define KEY_HEX_LEN (2 * KEY_LEN)
/* A key file or command output larger than this is refused. */
#define KEY_TEXT_MAX (64 * 1024)

typedef struct SecretKey
{
	uint8		id[KEY_ID_LEN];
	uint8		key[KEY_LEN];
} SecretKey;

static SecretKey *keys = NULL;
static int	nkeys = 0;
static bool keys_loaded = false;
static bool key_file_missing = false;

/* Forget the cached keys; they are wiped at the next load. */
void
secret_key_assign(const char *newval, void *extra)
{
	keys_loaded = false;
}

/* Wipe and free the cached keys. */
static void
forget_keys(void)
{
	if (keys != NULL)
	{
		explicit_bzero(keys, sizeof(SecretKey) * nkeys);
		pfree(keys);
	}
	keys = NULL;
	nkeys = 0;
	keys_loaded = false;
	key_file_missing = false;
}

/* Wipe and free a palloc'd buffer of len bytes. */
static void
wipe(char *buf, size_t len)
{
	if (buf != NULL)
	{
		explicit_bzero(buf, len);
		pfree(buf);
	}
}

/* Fill buf with random bytes from OpenSSL's generator. */
static void
random_bytes(uint8 *buf, int len)
{
	if (RAND_bytes(buf, len) != 1)
	{
		ERR_clear_error();
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	}
}

/*
 * A key's id: the first bytes of a SHA-256 of the key, so that it names the
 * key wherever its line is and reveals nothing usable about it.
 */
static void
key_id_of(const uint8 *key, uint8 *id)
{
	static const char prefix[] = "pg_elt secret key id";
	uint8		data[sizeof(prefix) + KEY_LEN];
	uint8		md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool		ok;

	memcpy(data, prefix, sizeof(prefix));
	memcpy(data + sizeof(prefix), key, KEY_LEN);
	ok = EVP_Digest(data, sizeof(data), md, &mdlen, EVP_sha256(), NULL) == 1;
	explicit_bzero(data, sizeof(data));
	if (!ok || mdlen < KEY_ID_LEN)
	{
		ERR_clear_error();
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a secret key id")));
	}
	memcpy(id, md, KEY_ID_LEN);
}

/* Text form of a key id. */
static void
key_id_hex(const uint8 *id, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < KEY_ID_LEN; i++)
	{
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 0xf];
	}
	out[2 * KEY_ID_LEN] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* How the configured source of keys is named in messages. */
static char *
key_source_name(void)
{
	if (elt_secret_key_command != NULL && elt_secret_key_command[0] != '\0')
		return pstrdup("pg_elt.secret_key_command");
	return psprintf("the secret key file \"%s\"", elt_secret_key_file);
}

/*
 * Parse key text: one key per line as 64 hexadecimal digits; blank lines
 * and lines starting with "#" are skipped.  Replaces the cached keys.  No
 * message quotes the text.
 */
static void
parse_keys(const char *text, size_t len)
{
	SecretKey  *parsed;
	int			max = 1;
	int			n = 0;
	int			lineno = 0;
	size_t		pos = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			max++;
	parsed = MemoryContextAllocZero(TopMemoryContext, sizeof(SecretKey) * max);

	while (pos < len)
	{
		size_t		start = pos;
		size_t		end;
		bool		bad = false;

		lineno++;
		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		pos++;					/* past the newline */
		while (start < end && isspace((unsigned char) text[start]))
			start++;
		while (end > start && isspace((unsigned char) text[end - 1]))
			end--;
		if (start == end || text[start] == '#')
			continue;
		if (end - start != KEY_HEX_LEN)
			bad = true;
		for (i = 0; !bad && i < KEY_LEN; i++)
		{
			int			hi = hex_value(text[start + 2 * i]);
			int			lo = hex_value(text[start + 2 * i + 1]);

			if (hi < 0 || lo < 0)
				bad = true;
			else
				parsed[n].key[i] = (uint8) ((hi << 4) | lo);
		}
		if (bad)
		{
			explicit_bzero(parsed, sizeof(SecretKey) * max);
			pfree(parsed);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("invalid secret key on line %d of %s", lineno, key_source_name()),
					 errdetail("A key is 64 hexadecimal digits (256 bits), one key per line.")));
		}
		key_id_of(parsed[n].key, parsed[n].id);
		n++;
	}
	if (n == 0)
	{
		pfree(parsed);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("no secret key in %s", key_source_name()),
				 errdetail("A key is 64 hexadecimal digits (256 bits), one key per line.")));
	}
	forget_keys();
	keys = parsed;
	nkeys = n;
	keys_loaded = true;
}

/*
 * Read the key file.  Returns NULL and sets *missing when it does not
 * exist.  Refuses a file that is not a regular file, is owned by another
 * user, or can be read by the group or others, as PostgreSQL refuses such
 * an ssl_key_file.
 */
static char *
read_key_file(const char *path, bool *missing, size_t *len)
{
	struct stat st;
	char	   *buf;
	size_t		done = 0;
	int			fd;

	*missing = false;
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT)
		{
			*missing = true;
			return NULL;
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open secret key file \"%s\": %m", path)));
	}
	if (fstat(fd, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat secret key file \"%s\": %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("secret key file \"%s\" is not a regular file", path)));
	if (st.st_uid != geteuid() && st.st_uid != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("secret key file \"%s\" must be owned by the database user or root", path)));
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("secret key file \"%s\" has group or world access", path),
				 errdetail("The file must have permissions u=rw (0600) or less."),
				 errhint("Restrict them with \"chmod 600\".")));
	if (st.st_size > KEY_TEXT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("secret key file \"%s\" is too large", path),
				 errdetail("A key file holds at most %d bytes.", KEY_TEXT_MAX)));

	buf = palloc(st.st_size + 1);
	while (done < (size_t) st.st_size)
	{
		ssize_t		r = read(fd, buf + done, st.st_size - done);

		if (r < 0)
		{
			int			save_errno = errno;

			wipe(buf, st.st_size + 1);
			errno = save_errno;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read secret key file \"%s\": %m", path)));
		}
		if (r == 0)
			break;
		done += r;
	}
	CloseTransientFile(fd);
	buf[done] = '\0';
	*len = done;
	return buf;
}

/*
 * Write the key file atomically: a temporary file of mode 0600 next to it,
 * flushed, then renamed over it (durable_rename flushes the directory).
 */
static void
write_key_file(const char *path, const char *text, size_t len)
{
	char	   *tmp = psprintf("%s.tmp.%d", path, MyProcPid);
	int			fd;

	(void) unlink(tmp);
	fd = OpenTransientFilePerm(tmp, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY,
							   S_IRUSR | S_IWUSR);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create secret key file \"%s\": %m", tmp)));
	errno = 0;
	if (write(fd, text, len) != (ssize_t) len || pg_fsync(fd) != 0)
	{
		int			save_errno = errno ? errno : ENOSPC;

		CloseTransientFile(fd);
		(void) unlink(tmp);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write secret key file \"%s\": %m", tmp)));
	}
	if (CloseTransientFile(fd) != 0)
	{
		int			save_errno = errno;

		(void) unlink(tmp);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close secret key file \"%s\": %m", tmp)));
	}
	(void) durable_rename(tmp, path, ERROR);
	pfree(tmp);
}

/*
 * Lock the key file's directory, so that two backends (of any database)
 * creating or rotating the key file one after the other each see what the
 * other wrote.  Released by CloseTransientFile, or on abort.
 */
static int
lock_key_directory(const char *path)
{
	char		dir[MAXPGPATH];
	int			fd;

	strlcpy(dir, path, sizeof(dir));
	get_parent_directory(dir);
	if (dir[0] == '\0')
		strlcpy(dir, ".", sizeof(dir));
	fd = OpenTransientFile(dir, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\" of the secret key file: %m", dir)));
	if (flock(fd, LOCK_EX) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not lock directory \"%s\" of the secret key file: %m", dir)));
	return fd;
}

/* A new random key's line: 64 hexadecimal digits and a newline. */
static char *
new_key_line(void)
{
	static const char digits[] = "0123456789abcdef";
	uint8		key[KEY_LEN];
	char	   *line = palloc(KEY_HEX_LEN + 2);
	int			i;

	random_bytes(key, KEY_LEN);
	for (i = 0; i < KEY_LEN; i++)
	{
		line[2 * i] = digits[key[i] >> 4];
		line[2 * i + 1] = digits[key[i] & 0xf];
	}
	line[KEY_HEX_LEN] = '\n';
	line[KEY_HEX_LEN + 1] = '\0';
	explicit_bzero(key, sizeof(key));
	return line;
}

/*
 * With the directory locked: read the key file, or, when create is set and
 * it is missing, create it holding one new random key.  With prepend set,
 * a new key is written first in the file, before the existing ones.
 * Returns the file's text (NULL when missing and not created).
 */
static char *
key_file_text(const char *path, bool create, bool prepend, size_t *len)
{
	bool		missing;
	char	   *text;
	char	   *line;
	char	   *joined;
	size_t		old_len = 0;
	int			lockfd = -1;

	if (!create && !prepend)
	{
		text = read_key_file(path, &missing, len);
		key_file_missing = missing;
		return text;
	}

	lockfd = lock_key_directory(path);
	text = read_key_file(path, &missing, &old_len);
	if (!missing && !prepend)
	{
		CloseTransientFile(lockfd);
		*len = old_len;
		return text;
	}
	line = new_key_line();
	*len = KEY_HEX_LEN + 1 + old_len;
	joined = palloc(*len + 1);
	memcpy(joined, line, KEY_HEX_LEN + 1);
	if (old_len > 0)
		memcpy(joined + KEY_HEX_LEN + 1, text, old_len);
	joined[*len] = '\0';
	wipe(line, KEY_HEX_LEN + 2);
	if (text != NULL)
		wipe(text, old_len + 1);
	/* refuse to write a file whose old keys could not be read back */
	parse_keys(joined, *len);
	write_key_file(path, joined, *len);
	CloseTransientFile(lockfd);
	if (missing)
		ereport(LOG,
				(errmsg("created secret key file \"%s\"", path)));
	return joined;
}

/*
 * Run the key command and return its standard output.  The command itself
 * is never quoted in a message: it may carry a credential.
 */
static char *
run_key_command(size_t *len)
{
	FILE	   *fh;
	char	   *buf = palloc(KEY_TEXT_MAX + 1);
	size_t		done = 0;
	int			rc;

	fflush(NULL);
	fh = OpenPipeStream(elt_secret_key_command, "r");
	if (fh == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not run pg_elt.secret_key_command: %m")));
	while (done <= KEY_TEXT_MAX)
	{
		size_t		r = fread(buf + done, 1, KEY_TEXT_MAX + 1 - done, fh);

		if (r == 0)
			break;
		done += r;
		if (done == KEY_TEXT_MAX + 1)
			break;
	}
	rc = ClosePipeStream(fh);
	if (rc != 0 || done > KEY_TEXT_MAX)
	{
		wipe(buf, KEY_TEXT_MAX + 1);
		if (rc != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("pg_elt.secret_key_command failed"),
					 errdetail_internal("%s", rc == -1 ? "could not close the pipe" : wait_result_to_str(rc))));
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pg_elt.secret_key_command printed more than %d bytes", KEY_TEXT_MAX)));
	}
	buf[done] = '\0';
	*len = done;
	return buf;
}

/*
 * (Re)load the keys from the configured source.  create: make the key file
 * when it is missing.  prepend: put a new key first (rotation).
 */
static void
load_keys(bool create, bool prepend)
{
	bool		have_file = elt_secret_key_file != NULL && elt_secret_key_file[0] != '\0';
	bool		have_command = elt_secret_key_command != NULL && elt_secret_key_command[0] != '\0';
	char	   *text;
	size_t		len = 0;

	if (have_file && have_command)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pg_elt.secret_key_file and pg_elt.secret_key_command are both set"),
				 errhint("A superuser should set only one of them.")));
	if (!have_file && !have_command)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no secret key is configured"),
				 errdetail("Secrets are encrypted under a key kept outside the database."),
				 errhint("A superuser can set pg_elt.secret_key_file or pg_elt.secret_key_command and reload the configuration.")));

	if (have_command)
	{
		text = run_key_command(&len);
		parse_keys(text, len);
		wipe(text, KEY_TEXT_MAX + 1);
		return;
	}

	text = key_file_text(elt_secret_key_file, create, prepend, &len);
	if (text == NULL)
	{
		/* no file yet: nothing can be decrypted, and nothing is made up */
		forget_keys();
		key_file_missing = true;
		keys_loaded = true;
		return;
	}
	if (!prepend)
		parse_keys(text, len);
	wipe(text, len + 1);
	key_file_missing = false;
}

void
secret_key_refresh(void)
{
	load_keys(true, false);
}

void
secret_key_rotate(bool new_key, char *key_id)
{
	bool		have_command = elt_secret_key_command != NULL && elt_secret_key_command[0] != '\0';

	load_keys(true, new_key && !have_command);
	key_id_hex(keys[0].id, key_id);
}

/* The cached key with this id, or NULL. */
static SecretKey *
find_key(const uint8 *id)
{
	int			i;

	for (i = 0; i < nkeys; i++)
		if (memcmp(keys[i].id, id, KEY_ID_LEN) == 0)
			return &keys[i];
	return NULL;
}

/* Authenticated data: the stored form's header and the secret's name. */
static uint8 *
associated_data(const uint8 *header, const char *name, int *len)
{
	size_t		name_len = strlen(name);
	uint8	   *aad = palloc(HEADER_LEN + name_len);

	memcpy(aad, header, HEADER_LEN);
	memcpy(aad + HEADER_LEN, name, name_len);
	*len = HEADER_LEN + name_len;
	return aad;
}

/*
 * The cipher, fetched once: with OpenSSL 3, EVP_aes_256_gcm() in every
 * init fetches the implementation anew, a visible part of a request's cost.
 * OpenSSL owns it, for the life of the process.
 */
static const EVP_CIPHER *
aes_256_gcm(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	static EVP_CIPHER *cipher = NULL;

	if (cipher == NULL)
		cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (cipher != NULL)
		return cipher;
#endif
	return EVP_aes_256_gcm();
}

/* AES-256-GCM encryption of in into out, and the tag. */
static bool
gcm_seal(const uint8 *key, const uint8 *nonce, const uint8 *aad, int aad_len,
		 const uint8 *in, int len, uint8 *out, uint8 *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			outl;
	bool		ok;

	ok = ctx != NULL &&
		EVP_EncryptInit_ex(ctx, aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &outl, aad, aad_len) == 1 &&
		(len == 0 || EVP_EncryptUpdate(ctx, out, &outl, in, len) == 1) &&
		EVP_EncryptFinal_ex(ctx, out + len, &outl) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* AES-256-GCM decryption; false when the tag does not authenticate. */
static bool
gcm_open(const uint8 *key, const uint8 *nonce, const uint8 *aad, int aad_len,
		 const uint8 *in, int len, const uint8 *tag, uint8 *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8		tag_copy[TAG_LEN];
	int			outl;
	bool		ok;

	memcpy(tag_copy, tag, TAG_LEN);
	ok = ctx != NULL &&
		EVP_DecryptInit_ex(ctx, aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		EVP_DecryptUpdate(ctx, NULL, &outl, aad, aad_len) == 1 &&
		(len == 0 || EVP_DecryptUpdate(ctx, out, &outl, in, len) == 1) &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag_copy) == 1 &&
		EVP_DecryptFinal_ex(ctx, out + len, &outl) == 1;
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

bytea *
secret_encrypt(const char *name, const char *value, size_t len, char *key_id)
{
	bytea	   *stored;
	uint8	   *p;
	uint8	   *aad;
	int			aad_len;
	bool		ok;

	if (!keys_loaded || nkeys == 0)
		load_keys(true, false);
	if (len > MaxAllocSize - VARHDRSZ - OVERHEAD)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("secret value is too long")));

	stored = palloc(VARHDRSZ + OVERHEAD + len);
	SET_VARSIZE(stored, VARHDRSZ + OVERHEAD + len);
	p = (uint8 *) VARDATA(stored);
	p[0] = SECRET_FORMAT_VERSION;
	memcpy(p + 1, keys[0].id, KEY_ID_LEN);
	random_bytes(p + 1 + KEY_ID_LEN, NONCE_LEN);
	aad = associated_data(p, name, &aad_len);
	ok = gcm_seal(keys[0].key, p + 1 + KEY_ID_LEN, aad, aad_len,
				  (const uint8 *) value, (int) len,
				  p + HEADER_LEN, p + HEADER_LEN + len);
	pfree(aad);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encrypt secret \"%s\"", name)));
	key_id_hex(keys[0].id, key_id);
	return stored;
}

void
secret_stored_key_id(bytea *stored, char *key_id)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(stored);

	if (VARSIZE_ANY_EXHDR(stored) < OVERHEAD || p[0] != SECRET_FORMAT_VERSION)
		key_id[0] = '\0';
	else
		key_id_hex(p + 1, key_id);
}

char *
secret_decrypt(const char *name, bytea *stored, bool missing_ok)
{
	size_t		total = VARSIZE_ANY_EXHDR(stored);
	const uint8 *p = (const uint8 *) VARDATA_ANY(stored);
	size_t		len;
	SecretKey  *key;
	bool		reloaded = false;
	char		id[SECRET_KEY_ID_HEX_LEN];
	char	   *value;
	uint8	   *aad;
	int			aad_len;
	bool		ok;

	if (total < OVERHEAD || p[0] != SECRET_FORMAT_VERSION)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("secret \"%s\" cannot be decrypted", name),
				 errdetail("Its stored form is not one this version of pg_elt writes."),
				 errhint("Set the secret again with elt.set_secret().")));
	}
	len = total - OVERHEAD;
	key_id_hex(p + 1, id);

	if (!keys_loaded)
	{
		load_keys(false, false);
		reloaded = true;
	}
	key = find_key(p + 1);
	if (key == NULL && !reloaded)
	{
		/* perhaps rotated by another session since the keys were read */
		load_keys(false, false);
		key = find_key(p + 1);
	}
	if (key == NULL)
	{
		if (missing_ok)
			return NULL;
		if (key_file_missing)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("secret \"%s\" cannot be decrypted", name),
					 errdetail("It is encrypted under key %s, and the secret key file \"%s\" does not exist.",
							   id, elt_secret_key_file),
					 errhint("Install the key file the secret was set with, or set the secret again with elt.set_secret().")));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secret \"%s\" cannot be decrypted", name),
				 errdetail("It is encrypted under key %s, which is not among the keys of %s.",
						   id, key_source_name()),
				 errhint("Add the key the secret was set with, or set the secret again with elt.set_secret().")));
	}

	value = palloc(len + 1);
	aad = associated_data(p, name, &aad_len);
	ok = gcm_open(key->key, p + 1 + KEY_ID_LEN, aad, aad_len,
				  p + HEADER_LEN, (int) len, p + HEADER_LEN + len,
				  (uint8 *) value);
	pfree(aad);
	if (!ok)
	{
		wipe(value, len + 1);
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("secret \"%s\" cannot be decrypted", name),
				 errdetail("Key %s does not authenticate its stored form: the stored value was altered or belongs to another secret.",
						   id),
				 errhint("Set the secret again with elt.set_secret().")));
	}
	value[len] = '\0';
	return value;
}
