"""Every Spanish sentence the agent shows or publishes (status messages, acks, notices), in one place."""

from __future__ import annotations

IDLE = "En espera: sin sincronización activa"
STARTING = "Iniciando sincronización"
ANALYSING = "Analizando cambios en FerraWin..."
PAUSING = "Pausando tras la planilla actual"
STOPPING = "Deteniendo tras la planilla actual"
KILLING = "Forzando la detención de la sincronización"
RESUME_HINT = "Use Reanudar para continuar donde se quedó."

BUSY = "ya hay una sincronización en curso ({progress}); deténgala o espere a que termine"
BUSY_OTHER_PROCESS = "ya hay una sincronización en marcha en este PC fuera del agente: {detail}"
NOTHING_RUNNING = "no hay ninguna sincronización en curso"
NOTHING_TO_RESUME = "no hay ninguna sincronización pausada, detenida o interrumpida que reanudar"
ALREADY_PAUSED = "la sincronización ya está en pausa"
STANDBY_REFUSES = "este PC está en reserva ({why}); envíe el comando al agente activo"
STANDBY_ACTIVE_IS = "En reserva: {active} está activo"
STANDBY_WAITING = "En reserva: esperando a conocer los demás agentes del canal remoto"
LEGACY_LISTENER = "Hay un listener antiguo activo en {host}: desinstálelo para que FerraSync tome el control"
AUTOSYNC_SAVED = "Sincronización automática {state}"
STOPPING_AGENT = "El agente se está cerrando"

INTERRUPTED = "La sincronización {run_id} se interrumpió (se cerró el programa o se apagó el PC). " + RESUME_HINT
PAUSED_AT = "Pausada en {code}. " + RESUME_HINT
PAUSED = "Sincronización pausada. " + RESUME_HINT

DUPLICATE = "comando ya recibido: {outcome}"
UNPROVEN_MEMBERS = ("miembro(s) del canal de presencia sin prueba de la clave de firma, no cuentan para elegir el "
                    "agente activo: {who} (un listener antiguo o alguien con la clave de Pusher)")
SEEN_NOT_OURS = "visto cuando no iba dirigido a este PC (otro agente lo atendía)"
SEEN_REPLAY = ("este PC ya vio esta orden cuando le correspondía a otro agente y no la repite; "
               "si no se ejecutó, envíe una orden nueva")

PUSHER_NOT_CONFIGURED = (
    "El canal remoto no está configurado: complete la pestaña Pusher en Configuración; mientras tanto solo "
    "funcionan las órdenes dadas en este PC"
)

# Notifications (docs/ui.md, "Words").
NOTICE_COMPLETED_TITLE = "Sincronización completada"
NOTICE_ERROR_TITLE = "Error de sincronización"
NOTICE_TAKEOVER_TITLE = "FerraSync: agente activo"
NOTICE_TAKEOVER = "Este PC es ahora el agente activo ({previous} dejó de responder)"
NOTICE_TAKEOVER_FIRST = "Este PC es ahora el agente activo"
NOTICE_REFUSED_TITLE = "Sincronización rechazada"


def duration(seconds: float) -> str:
    """`1 min 20 s`, `45 s`, `2 h 5 min` — how docs/ui.md writes durations."""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def completed(sent: int, nuevas: int, modificadas: int, seconds: float, failed: int = 0, skipped: int = 0) -> str:
    """ "Sincronización completada: 37 planillas (12 nuevas, 25 modificadas) en 1 min 20 s"."""
    detail = f" ({nuevas} nuevas, {modificadas} modificadas)" if nuevas or modificadas else ""
    text = f"Sincronización completada: {sent} planillas{detail} en {duration(seconds)}"
    if skipped:
        text += f"; {skipped} omitidas (sin obra o sin datos)"
    if failed:
        text += f"; {failed} no se pudieron enviar: revise el registro y repita la sincronización"
    return text


def failed(message: str, code: str = "") -> str:
    where = f" en {code}" if code else ""
    return f"Error de sincronización{where}: {message}"

REPORT_BUSY = "ya hay una consulta (explain o reconcile) en curso en este PC; espere su resultado"
REPORT_FAILED = "la consulta falló por un error inesperado: {detail}"
