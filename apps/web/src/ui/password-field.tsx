/** A labelled passphrase input: the label gives it its accessible name. */
export function PasswordField(props: {
  id: string
  label: string
  autoComplete: 'current-password' | 'new-password'
  value: string
  onValue: (value: string) => void
}) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        autoComplete={props.autoComplete}
        value={props.value}
        onInput={(e) => props.onValue(e.currentTarget.value)}
      />
    </>
  )
}
