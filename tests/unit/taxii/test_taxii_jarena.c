/* Unit tests of lib/taxii/taxii_jarena.c: jansson values made in a scope
 * come from the arena; values from before or after it are malloc'd, and
 * each kind is freed the right way (a wrong free aborts the test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "taxii/taxii_jarena.h"

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	assert_non_null(v);
	return v;
}

static void
test_scope(void **state)
{
	(void)state;
	json_t *before = parse("{\"kept\":[1,2,3]}");
	for (int round = 0; round < 3; round++) {
		json_t *outside = parse("[\"made before the scope\"]");
		taxii_jarena_begin();
		json_t *in = parse("{\"a\":\"b\",\"n\":[1,{\"c\":null}]}");
		/* a large value gets a chunk of its own */
		char *big = malloc(600 * 1024);
		assert_non_null(big);
		memset(big, 'x', 600 * 1024 - 1);
		big[600 * 1024 - 1] = '\0';
		assert_int_equal(json_object_set_new(in, "big", json_string(big)), 0);
		free(big);
		/* a value from before the scope may be released inside it */
		json_decref(outside);
		json_t *tmp = json_copy(before);
		assert_non_null(tmp);
		json_decref(tmp);
		char *txt = json_dumps(in, JSON_COMPACT);
		assert_non_null(txt);
		assert_true(strlen(txt) > 600 * 1024);
		json_free_t f = NULL;
		json_get_alloc_funcs(NULL, &f);
		f(txt);
		json_decref(in);
		taxii_jarena_end();
	}
	/* made before the scopes, still whole */
	assert_int_equal(json_array_size(json_object_get(before, "kept")), 3);
	json_decref(before);
}

static int
setup(void **state)
{
	(void)state;
	taxii_jarena_install();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scope),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
