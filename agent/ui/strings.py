"""Every Spanish text the tray and its windows show (docs/ui.md: the users' words, the web monitor's colours).

The service's own sentences (status messages, notices) live in agent/strings.py; these are the tray's.
The words it shares with the control window (settings, About, target names) live in qtshared/strings.py.
"""

from __future__ import annotations

from qtshared.strings import CONFIRM_FORCE_TITLE as CONFIRM_FORCE_TITLE

# The tray's tables name them here too: one definition, shared with the control window.
from qtshared.strings import MENU_ABOUT as MENU_ABOUT
from qtshared.strings import TARGET as TARGET
from qtshared.strings import confirm_force as confirm_force

APP = "FerraSync"
APP_AGENT = "FerraSync Agent"
ALREADY_RUNNING = "FerraSync Agent ya estaba en marcha: esta es su ventana."
ALREADY_RUNNING_UNREACHABLE = "FerraSync Agent ya está en marcha, pero no responde para mostrar su ventana.\n\n{detail}"

ROLE = {"active": "activo", "standby": "en reserva"}
MODE = {
    "incremental": "Incremental",
    "nuevas": "Solo nuevas",
    "historico": "Año {anio}",
    "rebuild": "Todo (reconstruir)",
    "especifica": "Planilla {codigo}",
}
# Tooltip (docs/ui.md examples); the state words themselves are sync.words'.
TIP_RUNNING = "Sincronizando {progress}"
TIP_ANALYSING = "Sincronizando 0/? · analizando cambios en FerraWin"
TIP_PAUSING = "Pausando tras la planilla actual"
TIP_STOPPING = "Deteniendo tras la planilla actual"
TIP_LAST = "{lead} {time} · {progress} planillas"
TIP_LAST_LEAD = "Última sincronización"
TIP_DISCONNECTED = "Sin conexión con el canal remoto"
TIP_STANDBY = "En reserva: {active} está activo"

# Tray menu (docs/ui.md, "Tray menu").
MENU_SYNC_NOW = "Sincronizar ahora"
MENU_SYNC_YEAR = "Sincronizar año"
MENU_PAUSE = "Pausar"
MENU_PAUSING = "Pausando…"
MENU_RESUME = "Reanudar"
MENU_STOP = "Detener…"
MENU_STOPPING = "Deteniendo…"
MENU_FORCE_STOP = "Forzar detención…"
MENU_CONTROL = "Abrir ventana de control"
MENU_LOGS = "Ver registros"
MENU_SETTINGS = "Configuración…"
MENU_AUTOSTART_WINDOWS = "Iniciar con Windows"
MENU_AUTOSTART_OTHER = "Iniciar al abrir la sesión"
MENU_QUIT = "Salir"
MENU_NO_YEARS = "(sin años en FerraWin)"
WHY_STANDBY = "Este PC está en reserva: las sincronizaciones las hace {active}."
WHY_RUNNING = "Ya hay una sincronización en curso."
WHY_PAUSED = "Hay una sincronización pausada: reanúdela o deténgala antes."

# Confirmations and messages.
CONFIRM_STOP_TITLE = "Detener la sincronización"
CONFIRM_STOP = (
    "¿Detener la sincronización?\n\nSe detendrá al terminar la planilla actual; lo ya enviado queda en Manager "
    "y podrá continuar más tarde con «Reanudar»."
)
CONFIRM_KILL_TITLE = "Forzar detención"
CONFIRM_KILL = (
    "La detención está tardando más de lo normal.\n\n¿Forzar la detención ahora? El lote que se estaba enviando "
    "se volverá a enviar al reanudar; no se pierde ni se duplica nada."
)
CONFIRM_QUIT_TITLE = "Salir de FerraSync"
CONFIRM_QUIT = (
    "Hay una sincronización en curso.\n\nSi sale, se detendrá y podrá reanudarla al volver a abrir FerraSync. "
    "Mientras esté cerrado, nadie podrá sincronizar desde otros equipos. ¿Salir?"
)
# Shown by the tray and by the control window when the safety limit refused a start they sent.
REJECTED_TITLE = "Orden rechazada"
REJECTED = "La orden «{command}» no se ha aceptado: {reason}"
CONTROL_MISSING_TITLE = "Ventana de control no instalada"
CONTROL_MISSING = (
    "La ventana de control (ferrasync-control) no está instalada en este equipo.\n\n"
    "Instálela para enviar órdenes y ver el historial; desde este menú puede sincronizar, pausar y detener."
)
CONTROL_FAILED = "No se pudo abrir la ventana de control: {error}"
LOGS_FAILED = "No se pudo abrir la carpeta de registros {path}."
SETTINGS_RESTART = "Ajustes guardados. Se aplicarán al terminar la sincronización en curso (o al reiniciar el agente)."
SETTINGS_APPLIED = "Ajustes guardados y aplicados."
NO_TRAY = "No hay bandeja del sistema: FerraSync muestra su ventana de estado en su lugar."
AUTOSTART_FAILED = "No se pudo cambiar el inicio automático: {error}"
SETTINGS_INVALID_TITLE = "Configuración no válida"

# Status window (docs/ui.md, "Agent status window").
WINDOW_TITLE = "FerraSync — Estado del agente"
PROGRESS = "{progress} planillas"
PROGRESS_ANALYSING = "Analizando cambios en FerraWin…"
PROGRESS_NONE = "Sin sincronización en curso"
CURRENT = "{code} · {info}"
ELAPSED = "Transcurrido {elapsed}"
REMAINING = "quedan ~{eta}"
RECENT = "Últimas sincronizaciones"
RECENT_HEADERS = ("Inicio", "Modo", "Destino", "Resultado", "Planillas", "Detalle")
RECENT_NONE = "Todavía no se ha sincronizado nada en este PC."
LOG = "Registro"
LOG_EMPTY = "(sin registros todavía)"
BTN_PAUSE = "&Pausar"
BTN_RESUME = "&Reanudar"
BTN_STOP = "&Detener…"
BTN_FORCE = "&Forzar detención…"
BTN_LOGS = "Abrir &registros"
TIP_BTN_PAUSE = "Pausa la sincronización al terminar la planilla actual"
TIP_BTN_RESUME = "Continúa la sincronización desde la última planilla confirmada"
TIP_BTN_STOP = "Detiene la sincronización al terminar la planilla actual (pide confirmación)"
TIP_BTN_FORCE = "Corta la sincronización ya, sin esperar a la planilla actual (pide confirmación)"
TIP_BTN_LOGS = "Abre la carpeta con los registros diarios del agente"
BTN_SETTINGS = "&Configuración…"
TIP_BTN_SETTINGS = "Datos del canal remoto y de Manager de este PC"
TECH_DETAIL = "Detalle técnico: {detail}"
TIP_PILL = "Estado del agente en este PC"
PC_ROLE = "{host} · {role}"
LEGACY = "Hay un listener antiguo activo en {host}: desinstálelo para que FerraSync tome el control"

# A refused order is named by the menu item that sent it ("Sincronizar ahora", never the wire's "start").
COMMAND_LABELS = {"start": MENU_SYNC_NOW, "pause": MENU_PAUSE, "resume": MENU_RESUME,
                  "stop": MENU_STOP.rstrip("…"), "kill": MENU_FORCE_STOP.rstrip("…")}  # fmt: skip
