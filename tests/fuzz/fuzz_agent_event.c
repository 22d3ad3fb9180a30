/*
 * Fuzz target: agent_set_apply_event (lib/agent/agent_set.c), what
 * tocsin-agent runs on each add/remove event's data from the hub. The
 * first byte picks the event name (add or remove); the rest is the data.
 * Invariants: a value the set holds is never empty, longer than
 * OBS_VALUE_MAX or holding a control byte (a backend puts it in an nft
 * command or a file line); applying the same event twice changes nothing
 * the second time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct agent_set *s = agent_set_new();
	struct agent_changes ch = { 0 };
	struct diag d;
	if (!s)
		return 0;
	struct slice name = slice_from_cstr(data[0] & 1 ? "remove" : "add");
	struct slice body = slice_make((const char *)data + 1, size - 1);
	if (agent_set_apply_event(s, name, body, &ch, &d) == TC_OK) {
		for (size_t i = 0; i < ch.n; i++) {
			size_t n = strlen(ch.v[i].value);
			if (n == 0 || n > OBS_VALUE_MAX)
				abort();
			for (size_t k = 0; k < n; k++)
				if ((unsigned char)ch.v[i].value[k] < 0x20)
					abort();
		}
		size_t before = ch.n;
		if (agent_set_apply_event(s, name, body, &ch, &d) != TC_OK || ch.n != before)
			abort();
	}
	agent_changes_reset(&ch);
	agent_set_free(s);
	return 0;
}
