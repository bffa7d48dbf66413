/*
 * secret_key.h
 *	  The keys secrets are encrypted under, and the encryption itself.
 *
 * Keys live outside the database: in a key file (pg_elt.secret_key_file)
 * or in the output of a command (pg_elt.secret_key_command), one key per
 * line as 64 hexadecimal digits, the first being the current one.  A
 * secret's stored form is
 *
 *	  version (1 byte) | key id (4) | nonce (12) | ciphertext | tag (16)
 *
 * sealed with AES-256-GCM; the version, the key id and the secret's name are
 * authenticated with it, so a stored value cannot be moved to another
 * secret's row.  A key's id is derived from the key itself, so the order of
 * the lines does not matter for decryption.
 */
#ifndef ELT_SECRET_KEY_H
#define ELT_SECRET_KEY_H

#include "postgres.h"

/* Text form of a key id: 8 hexadecimal digits and a terminator. */
#define SECRET_KEY_ID_HEX_LEN 9

/* Assign hook of both key settings: forget the cached keys. */
extern void secret_key_assign(const char *newval, void *extra);

/*
 * Read the keys again now, creating the key file when it is configured but
 * missing.  set_secret calls this so that a key rotated by another session
 * is the one it encrypts under.
 */
extern void secret_key_refresh(void);

/*
 * Make a new current key for rotation: with a key file, a new random key is
 * written first in the file (the old ones kept); with a key command, the
 * command is run again.  Sets key_id to the current key's id.
 */
extern void secret_key_rotate(bool new_key, char *key_id);

/*
 * Encrypt a secret's value under the current key.  Returns the stored form
 * (palloc'd) and sets key_id.
 */
extern bytea *secret_encrypt(const char *name, const char *value, size_t len,
							 char *key_id);

/*
 * Decrypt a secret's stored form; the result is palloc'd and
 * NUL-terminated.  When the key it needs is not available, returns NULL if
 * missing_ok, and raises an error naming the key id otherwise.  A stored
 * form that does not authenticate is always an error.
 */
extern char *secret_decrypt(const char *name, bytea *stored, bool missing_ok);

/* Key id of a stored form, in text form, or "" when it has none. */
extern void secret_stored_key_id(bytea *stored, char *key_id);

#endif							/* ELT_SECRET_KEY_H */
