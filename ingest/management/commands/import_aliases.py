from ingest.management.commands._import_command import import_command

Command = import_command("aliases")
