from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "tongban.workflow"
    label = "workflow"
    verbose_name = "审批流程"

    def ready(self) -> None:
        # receivers: starts processes on acceptance; smart: 智慧审批 after a submission commits
        from tongban.workflow import receivers, smart  # noqa: F401
