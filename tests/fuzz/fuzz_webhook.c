/* Fuzz target: a webhook subscription's URL check without resolving
 * (lib/webhook/webhook_url.c, over libcurl's URL parser) and its stored
 * filter (lib/webhook/webhook_filter.c over feed_filter_set), both fed
 * the same bytes as a C string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "webhook/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store *s;
	struct diag d;
	if (!s && store_open("memory:", &s, &d) != TC_OK)
		abort();
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (int i = 0; i < 4; i++) {
		struct webhook_url_policy pol = { i & 1, i & 2 };
		struct webhook_url w;
		webhook_url_parse(&pol, text, &w, &d);
	}
	struct feed_filter_store fs;
	feed_filter_init(&fs);
	webhook_filter_parse(&fs, s, text, &d);
	feed_filter_reset(&fs);
	free(text);
	return 0;
}
