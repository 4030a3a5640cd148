"""Buttons: run a scheduled task of the dashboard now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CronTask, NezhaError, NezhaMissingScopeError
from .const import DOMAIN
from .coordinator import NezhaConfigEntry, NezhaCronCoordinator
from .cron import async_add_cron_entities
from .entity import NezhaCronEntity
from .repairs import async_set_issue

# A press is one request; the dashboard may run one task after another.
PARALLEL_UPDATES = 1

RUN_TASK = ButtonEntityDescription(key="run", translation_key="run_task")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NezhaConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One button per task that can be run by hand (not those run on alerts only)."""

    def _make(cron: NezhaCronCoordinator, task: CronTask) -> list[NezhaCronButton]:
        return [NezhaCronButton(cron, task, RUN_TASK)] if task.can_run_by_hand else []

    async_add_cron_entities(entry, async_add_entities, _make)


class NezhaCronButton(NezhaCronEntity, ButtonEntity):
    """Runs the task on the servers it covers, as the dashboard's own "run" button does."""

    async def async_press(self) -> None:
        """Ask the dashboard to run the task; its result shows in the task's sensors."""
        entry = self.coordinator.config_entry
        name = self.task.name
        try:
            await self.coordinator.client.async_run_cron(self.task_id)
        except NezhaMissingScopeError as err:
            async_set_issue(self.hass, entry, "cron_scope", True)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="run_task_scope",
                translation_placeholders={"task": name, "scope": err.scope},
            ) from err
        except NezhaError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="run_task_failed",
                translation_placeholders={"task": name, "error": str(err)},
            ) from err
        self.coordinator.async_check_soon()
