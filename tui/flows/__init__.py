"""The app's flows: what a key starts and carries through dialogs to a store verb, each a
linear `@work` coroutine on the app (`await app.push_screen_wait(dialog)`), so that it
outlives the screen it was started from. Screens call them; the App only dispatches."""

# The worker group of every flow: a flow waiting for a dialog waits for the user, not for work.
GROUP = "flows"
