import logging

from carereg.tasks import task
from consults import agenda

log = logging.getLogger(__name__)


@task
def build_due_agendas() -> None:
    built = agenda.build_due_agendas()
    log.info("Caseload review agendas built for %s clinic(s)", built)
